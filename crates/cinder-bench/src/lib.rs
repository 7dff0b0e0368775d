//! Benchmarks and measurement tools for Cinder.
