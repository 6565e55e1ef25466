//! Implementation inference and the behavior hash (issue 3).

use observatory_model::probes::Inference;
use observatory_model::raw::EndpointRecord;

/// Infers the implementation from a finished record (metadata, wire facts, probes) and computes the
/// behavior hash. Pure: same record, same answer.
pub fn infer(_record: &EndpointRecord) -> (Option<Inference>, Option<String>) {
    (None, None)
}
