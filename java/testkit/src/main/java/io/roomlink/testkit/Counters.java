package io.roomlink.testkit;

import io.roomlink.testkit.FaultProxy.Direction;

/** Traffic counters. Written only on the proxy's I/O thread; read there too, via {@link #snapshot()}. */
final class Counters {
    long signalConnectionsAccepted;
    int signalConnectionsOpen;
    long signalConnectionsReset;
    long signalBytesUpstream;
    long signalBytesDownstream;
    long signalBytesHeld;
    long signalBytesDiscarded;
    long signalChunksRetransmitted;
    long signalFramesRewritten;
    long mediaDatagramsUpstream;
    long mediaDatagramsDownstream;
    long mediaDroppedUpstream;
    long mediaDroppedDownstream;
    long mediaDatagramsDuplicated;
    long mediaDatagramsReordered;
    long mediaDatagramsHeld;
    int mediaClients;

    void signalForwarded(Direction d, int bytes) {
        if (d == Direction.UPSTREAM) {
            signalBytesUpstream += bytes;
        } else {
            signalBytesDownstream += bytes;
        }
        signalBytesHeld -= bytes;
    }

    void mediaForwarded(Direction d) {
        if (d == Direction.UPSTREAM) {
            mediaDatagramsUpstream++;
        } else {
            mediaDatagramsDownstream++;
        }
    }

    void mediaDropped(Direction d) {
        if (d == Direction.UPSTREAM) {
            mediaDroppedUpstream++;
        } else {
            mediaDroppedDownstream++;
        }
    }

    FaultProxy.Stats snapshot() {
        return new FaultProxy.Stats(signalConnectionsAccepted, signalConnectionsOpen, signalConnectionsReset,
                signalBytesUpstream, signalBytesDownstream, signalBytesHeld, signalBytesDiscarded,
                signalChunksRetransmitted,
                signalFramesRewritten,
                mediaDatagramsUpstream, mediaDatagramsDownstream, mediaDroppedUpstream, mediaDroppedDownstream,
                mediaDatagramsDuplicated, mediaDatagramsReordered, mediaDatagramsHeld, mediaClients);
    }
}
