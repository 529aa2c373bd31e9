//! The tensor and tape core.

mod examples;
mod golden;
mod gradcheck_table;
mod tape_behaviour;
mod tensor_ops;
