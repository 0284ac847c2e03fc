package io.roomlink.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReceiverStreamTest {
    private static ByteBuf frame(long uid) {
        return Unpooled.wrappedBuffer(WireCodec.encode(new Message.PeerJoined(uid)));
    }

    private static List<Long> uids(List<ByteBuf> frames) throws Exception {
        List<Long> out = new ArrayList<>();
        for (ByteBuf b : frames) {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            out.add(((Message.PeerJoined) WireCodec.decodeFrame(bytes)).uid());
        }
        return out;
    }

    @Test
    void itemsAreNumberedFromOneAndKeptUntilAcknowledged() throws Exception {
        ReceiverStream s = new ReceiverStream(1000);
        List<ByteBuf> frames = new ArrayList<>();
        for (long uid = 1; uid <= 5; uid++) {
            ByteBuf f = frame(uid);
            frames.add(f);
            assertTrue(s.append(f));
            f.release(); // the caller's reference; the stream keeps its own
        }
        assertEquals(5, s.appended());
        assertEquals(5 * 14, s.bytes());
        assertTrue(s.ack(2));
        assertEquals(3, s.size());
        assertEquals(0, frames.get(0).refCnt(), "acknowledged frames are released");
        assertEquals(1, frames.get(2).refCnt());
        assertTrue(s.ack(1), "an older cumulative ack changes nothing");
        assertEquals(3, s.size());
        assertFalse(s.ack(6), "beyond what was sent");
        assertEquals(List.of(4L, 5L), uids(s.replayAfter(3)));
        assertEquals(3, s.acked());
        assertEquals(List.of(4L, 5L), uids(s.replayAfter(3)), "a replay may be repeated (a second migration)");
        s.clear();
        assertEquals(0, s.bytes());
        assertEquals(0, frames.get(4).refCnt());
    }

    @Test
    void resumePositionMustLieBetweenTheAckAndTheLastItem() {
        ReceiverStream s = new ReceiverStream(1000);
        for (long uid = 1; uid <= 4; uid++) {
            ByteBuf f = frame(uid);
            s.append(f);
            f.release();
        }
        s.ack(2);
        assertFalse(s.canResumeAt(1), "below what was acknowledged");
        assertFalse(s.canResumeAt(5), "beyond what was sent");
        assertFalse(s.canResumeAt(-1), "u64 max is beyond");
        assertTrue(s.canResumeAt(2));
        assertTrue(s.canResumeAt(4));
        assertThrows(IllegalArgumentException.class, () -> s.replayAfter(1));
        assertEquals(0, s.replayAfter(4).size());
        assertEquals(0, s.bytes());
    }

    @Test
    void boundedByEncodedBytes() {
        ReceiverStream s = new ReceiverStream(30);
        ByteBuf f = frame(1); // 14 bytes
        assertTrue(s.append(f));
        assertTrue(s.append(f));
        assertFalse(s.append(f), "a third would hold 42 > 30 bytes");
        assertEquals(2, s.appended());
        assertEquals(3, f.refCnt(), "one shared buffer, one reference per item");
        s.ack(1);
        assertTrue(s.append(f));
        s.clear();
        assertEquals(1, f.refCnt());
        f.release();
    }
}
