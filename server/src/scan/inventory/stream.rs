//! Analyses a stored layer blob: the blob store's body stream is bridged to a blocking reader and analysed in
//! `spawn_blocking`, so decompression never runs on the async executor.

use futures_util::TryStreamExt as _;
use http_body_util::BodyDataStream;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::oci::Digest;
use crate::storage::BlobStore;

use super::{InventoryError, LayerInventory, Limits, analyze_layer};

/// Reads the layer `digest` of media type `media_type` from `store` and returns its inventory.
pub async fn analyze_blob(
    store: &BlobStore,
    digest: &Digest,
    media_type: &str,
    limits: &Limits,
) -> Result<LayerInventory, InventoryError> {
    let body = store.read(digest, None).await?;
    let reader = StreamReader::new(BodyDataStream::new(body).map_err(std::io::Error::other));
    let reader = SyncIoBridge::new(reader);
    let media_type = media_type.to_owned();
    let layer = digest.to_string();
    let limits = limits.clone();
    let analysis =
        tokio::task::spawn_blocking(move || analyze_layer(reader, &media_type, &layer, &limits))
            .await
            .map_err(|e| InventoryError::Task(e.to_string()))??;
    analysis.finish().await
}
