//! The tensor and tape core.

mod gradcheck_table;
mod golden;
mod tape_behaviour;
mod tensor_ops;
