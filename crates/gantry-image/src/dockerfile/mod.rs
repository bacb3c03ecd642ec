//! Dockerfiles: the parser, the instruction model, word expansion and `.dockerignore`.

mod dockerignore;
mod instruction;
mod parser;
mod words;

pub use dockerignore::{DockerIgnore, match_components, match_segment};
pub use instruction::{
    CommandForm, CopyArgs, Dockerfile, Heredoc, Instruction, InstructionKind, Stage,
};
pub use parser::parse;
pub use words::{expand, split_raw};
