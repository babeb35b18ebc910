//! Everything stored about one customer, as the export (data-portability) request returns it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::profile::Profile;

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CustomerExport {
    pub profile: Profile,
}
