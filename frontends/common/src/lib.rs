//! The shared app layer (to be written).
