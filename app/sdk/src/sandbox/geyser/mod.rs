//! The sandbox's Yellowstone gRPC service (`geyser.Geyser`, the Geyser
//! plugin protocol Solana RPC providers serve), from the published protocol
//! definitions: `Subscribe` streams the transactions and accounts the
//! sandbox announces to its PubSub subscribers, filtered as Yellowstone
//! filters them, replaying the journal from `from_slot`; the unary calls are
//! answered by the JSON-RPC methods of the same name, so both agree.
//! `SubscribeDeshred` and `SubscribeGossip` have nothing to serve in a
//! sandbox and answer `UNIMPLEMENTED`.

pub mod convert;
mod filters;
mod subscription;

use super::rpc::{Shared, VERSION};
use super::server::SandboxServer;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use yellowstone_grpc_proto::geyser::geyser_server::{Geyser, GeyserServer};
use yellowstone_grpc_proto::geyser::{
    GetBlockHeightRequest, GetBlockHeightResponse, GetLatestBlockhashRequest,
    GetLatestBlockhashResponse, GetSlotRequest, GetSlotResponse, GetVersionRequest,
    GetVersionResponse, IsBlockhashValidRequest, IsBlockhashValidResponse, PingRequest,
    PongResponse, SubscribeDeshredRequest, SubscribeGossipRequest, SubscribeReplayInfoRequest,
    SubscribeReplayInfoResponse, SubscribeRequest, SubscribeUpdate, SubscribeUpdateDeshred,
    SubscribeUpdateGossip,
};
use yellowstone_grpc_proto::tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use yellowstone_grpc_proto::tonic::transport::server::TcpIncoming;
use yellowstone_grpc_proto::tonic::transport::Server;
use yellowstone_grpc_proto::tonic::{self, Request, Response, Status, Streaming};

/// Updates one subscriber may have in flight before the stream waits for it.
const SUBSCRIBER_BUFFER: usize = 1_024;

/// The Yellowstone version the sandbox speaks: that of its protocol definitions.
pub const PROTOCOL_VERSION: &str = "14.0.1";

/// The `geyser.Geyser` service over a sandbox.
pub struct SandboxGeyser {
    shared: Arc<Shared>,
}

impl SandboxServer {
    /// Serve Yellowstone gRPC on `grpc` until the process ends.
    pub async fn serve_grpc(self, grpc: TcpListener) -> std::io::Result<()> {
        self.serve_grpc_until(grpc, std::future::pending()).await
    }

    /// Serve Yellowstone gRPC on `grpc` until `stop` completes (open streams
    /// end then too, as when a provider's server goes away).
    pub async fn serve_grpc_until(
        self,
        grpc: TcpListener,
        stop: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let service = GeyserServer::new(SandboxGeyser {
            shared: self.shared.clone(),
        });
        Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(TcpIncoming::from(grpc), stop)
            .await
            .map_err(std::io::Error::other)
    }

    /// Serve JSON-RPC on `http`, the PubSub WebSocket on `pubsub` and, if
    /// given, Yellowstone gRPC on `grpc`, until one of them fails.
    pub async fn serve_all(
        self,
        http: TcpListener,
        pubsub: TcpListener,
        grpc: Option<TcpListener>,
    ) -> std::io::Result<()> {
        let Some(grpc) = grpc else {
            return self.serve_with_pubsub(http, pubsub).await;
        };
        let geyser = self.clone().serve_grpc(grpc);
        let rest = self.serve_with_pubsub(http, pubsub);
        tokio::select! {
            result = geyser => result,
            result = rest => result,
        }
    }
}

impl SandboxGeyser {
    /// A JSON-RPC method's result, as the sandbox answers it over HTTP.
    async fn rpc(&self, method: &str, params: Value) -> Result<Value, Status> {
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut reply = self.shared.call(&call).await;
        if let Some(error) = reply.get("error") {
            let message = error["message"].as_str().unwrap_or("sandbox error");
            return Err(Status::invalid_argument(format!("{method}: {message}")));
        }
        Ok(reply["result"].take())
    }
}

fn number(value: &Value, what: &str) -> Result<u64, Status> {
    value
        .as_u64()
        .ok_or_else(|| Status::internal(format!("the sandbox answered no {what}")))
}

type Stream<T> = ReceiverStream<Result<T, Status>>;

#[tonic::async_trait]
impl Geyser for SandboxGeyser {
    type SubscribeStream = Stream<SubscribeUpdate>;

    async fn subscribe(
        &self,
        request: Request<Streaming<SubscribeRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let (out, updates) = mpsc::channel(SUBSCRIBER_BUFFER);
        let shared = Arc::clone(&self.shared);
        tokio::spawn(subscription::run(shared, request.into_inner(), out));
        Ok(Response::new(ReceiverStream::new(updates)))
    }

    type SubscribeDeshredStream = Stream<SubscribeUpdateDeshred>;

    async fn subscribe_deshred(
        &self,
        _request: Request<Streaming<SubscribeDeshredRequest>>,
    ) -> Result<Response<Self::SubscribeDeshredStream>, Status> {
        Err(Status::unimplemented(
            "the sandbox has no shreds: subscribe to transactions",
        ))
    }

    type SubscribeGossipStream = Stream<SubscribeUpdateGossip>;

    async fn subscribe_gossip(
        &self,
        _request: Request<SubscribeGossipRequest>,
    ) -> Result<Response<Self::SubscribeGossipStream>, Status> {
        Err(Status::unimplemented("the sandbox has no gossip network"))
    }

    async fn subscribe_replay_info(
        &self,
        _request: Request<SubscribeReplayInfoRequest>,
    ) -> Result<Response<SubscribeReplayInfoResponse>, Status> {
        // The whole journal is kept: any from_slot replays.
        Ok(Response::new(SubscribeReplayInfoResponse {
            first_available: Some(0),
        }))
    }

    async fn ping(&self, request: Request<PingRequest>) -> Result<Response<PongResponse>, Status> {
        let count = request.into_inner().count;
        Ok(Response::new(PongResponse { count }))
    }

    async fn get_latest_blockhash(
        &self,
        _request: Request<GetLatestBlockhashRequest>,
    ) -> Result<Response<GetLatestBlockhashResponse>, Status> {
        let answer = self.rpc("getLatestBlockhash", json!([])).await?;
        Ok(Response::new(GetLatestBlockhashResponse {
            slot: number(&answer["context"]["slot"], "slot")?,
            blockhash: answer["value"]["blockhash"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            last_valid_block_height: number(
                &answer["value"]["lastValidBlockHeight"],
                "last valid block height",
            )?,
        }))
    }

    async fn get_block_height(
        &self,
        _request: Request<GetBlockHeightRequest>,
    ) -> Result<Response<GetBlockHeightResponse>, Status> {
        let answer = self.rpc("getBlockHeight", json!([])).await?;
        Ok(Response::new(GetBlockHeightResponse {
            block_height: number(&answer, "block height")?,
        }))
    }

    async fn get_slot(
        &self,
        _request: Request<GetSlotRequest>,
    ) -> Result<Response<GetSlotResponse>, Status> {
        let answer = self.rpc("getSlot", json!([])).await?;
        Ok(Response::new(GetSlotResponse {
            slot: number(&answer, "slot")?,
        }))
    }

    async fn is_blockhash_valid(
        &self,
        request: Request<IsBlockhashValidRequest>,
    ) -> Result<Response<IsBlockhashValidResponse>, Status> {
        let hash = request.into_inner().blockhash;
        let answer = self.rpc("isBlockhashValid", json!([hash])).await?;
        Ok(Response::new(IsBlockhashValidResponse {
            slot: number(&answer["context"]["slot"], "slot")?,
            valid: answer["value"].as_bool().unwrap_or(false),
        }))
    }

    async fn get_version(
        &self,
        _request: Request<GetVersionRequest>,
    ) -> Result<Response<GetVersionResponse>, Status> {
        // Yellowstone servers answer a JSON document naming their build.
        let version = json!({
            "version": {
                "package": "upline-sandbox",
                "version": env!("CARGO_PKG_VERSION"),
                "proto": PROTOCOL_VERSION,
                "solana": VERSION,
            },
            "extra": {},
        });
        Ok(Response::new(GetVersionResponse {
            version: version.to_string(),
        }))
    }
}
