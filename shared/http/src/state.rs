//! The state every handler borrows: built once at start (Lambda init or `fanloop serve`).

use std::sync::Arc;

use fanloop_domain::clock::Clock;
use fanloop_domain::ports::Store;

use crate::auth::KeyCache;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<KeyCache>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            keys: Arc::new(KeyCache::default()),
        }
    }
}
