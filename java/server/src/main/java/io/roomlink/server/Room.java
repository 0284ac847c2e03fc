package io.roomlink.server;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One channel and its sessions. Confined to the room executor (no locking). A room exists while
 * it has at least one session (pending, fully connected or in grace); its id is fixed for its
 * lifetime. Only visible sessions ({@link Session#visible}) are members as peers see them.
 */
final class Room {
    final RoomKey key;
    final long channelId;
    /** uid → session, pending ones included; insertion order, so snapshots list members in join order. */
    final Map<Long, Session> members = new LinkedHashMap<>();

    Room(RoomKey key, long channelId) {
        this.key = key;
        this.channelId = channelId;
    }

    @Override
    public String toString() {
        return "Room[" + key.appKey() + "/" + key.channel() + " id=" + channelId + " members=" + members.size() + "]";
    }
}
