//! The line protocol: codec, telnet layer and services (LINE.md).
