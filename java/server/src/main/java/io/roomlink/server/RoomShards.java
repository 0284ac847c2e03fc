package io.roomlink.server;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The room state split into independent {@link RoomRegistry} shards, each confined to one serial
 * executor, so that rooms are served by as many threads as there are shards.
 *
 * <p>Why sharding keeps every ordering guarantee: a room and all of its sessions live in exactly
 * one shard ({@link #forRoom}), so everything that orders presence within a room (snapshot before
 * JOIN_OK, PEER_JOINED/PEER_LEFT in one order for all members, duplicate logins, tombstones of the
 * room's sessions) still happens on one thread. A session id names its shard ({@link #forSession}:
 * its value modulo the shard count), so a RESUME, which carries nothing but the id, finds the
 * shard that holds the session or its tombstone. A connection is bound to one shard by its first
 * JOIN/RESUME and posts everything after it to that shard, in order.
 */
final class RoomShards {
    private final RoomRegistry[] shards;

    RoomShards(List<? extends EventExecutor> executors, MediaBindings bindings, MediaHandler media,
               ServerStats stats, ByteBufAllocator alloc, long graceNanos, long idleNanos, long retentionNanos,
               CredentialPolicy credentials, RoomCaps caps) {
        if (executors.isEmpty()) {
            throw new IllegalArgumentException("no executors");
        }
        AtomicLong channelIds = new AtomicLong(1);
        shards = new RoomRegistry[executors.size()];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new RoomRegistry(executors.get(i), i, shards.length, channelIds, bindings, media, stats, alloc,
                    graceNanos, idleNanos, retentionNanos, credentials, caps);
        }
    }

    int size() {
        return shards.length;
    }

    RoomRegistry shard(int index) {
        return shards[index];
    }

    /** The shard that owns the room (and every session in it). */
    RoomRegistry forRoom(RoomKey key) {
        return shards[shardOfRoom(key, shards.length)];
    }

    /** The shard that made the session with this id, or would have. */
    RoomRegistry forSession(long sessionId) {
        return shards[shardOfSession(sessionId, shards.length)];
    }

    static int shardOfRoom(RoomKey key, int count) {
        int h = key.hashCode();
        h ^= h >>> 16; // record hashCodes of similar names differ mostly in their low bits; spread them
        return Math.floorMod(h * 0x9E3779B9, count);
    }

    static int shardOfSession(long sessionId, int count) {
        return (int) Long.remainderUnsigned(sessionId, count);
    }

    /** Sessions in all shards (each counted on its own executor). */
    int sessionCount() {
        int n = 0;
        for (RoomRegistry r : shards) {
            n += r.call(r::sessionCount, 0);
        }
        return n;
    }

    void shutdown() {
        for (RoomRegistry r : shards) {
            r.call(() -> {
                r.shutdown();
                return null;
            }, null);
        }
    }
}
