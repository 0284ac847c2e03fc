package io.roomlink.bench.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.roomlink.server.TokenBuilder;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.ProtocolException;
import io.roomlink.server.protocol.WireCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A client JVM that speaks the wire protocol itself (docs/PROTOCOL.md), one selector thread for thousands of
 * sessions: it measures what the server node accepts, not what an SDK engine costs to run. Each session is the
 * SDK's join without the engine around it: TCP connect, JOIN, JOIN_OK, then BIND on the media path until BIND_ACK.
 * Driven like {@link ClientWorker} ({@link CommandLoop}): one command per stdin line, one {@code @ok}/{@code @err} line each.
 *
 * <pre>
 * join N FIRST_UID HOST PORT PER_CHANNEL PREFIX SECRET TIMEOUT_MS WINDOW
 *            N sessions, uids FIRST_UID.., channel PREFIX + uid/PER_CHANNEL, at most WINDOW joins in flight;
 *            answers when every JOIN has an answer and every BIND its BIND_ACK, or at the timeout
 * leaveall   LEAVE on every session, then close each when the server has closed it
 * clock      System.nanoTime()
 * exit
 * </pre>
 */
public final class WireClientWorker {
    private static final String APP_KEY = "bench";
    private static final long BIND_RETRY_NANOS = 300_000_000L;

    private final Selector selector;
    private final DatagramChannel media;
    private final List<Session> sessions = new ArrayList<>();
    private final Map<Long, Session> byMediaKey = new HashMap<>();
    private final SplittableRandom random = new SplittableRandom();
    private final ByteBuffer datagram = ByteBuffer.allocate(MediaCodec.MAX_DATAGRAM);

    private WireClientWorker() throws IOException {
        selector = Selector.open();
        media = DatagramChannel.open();
        media.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        media.bind(new InetSocketAddress("127.0.0.1", 0));
        media.configureBlocking(false);
        media.register(selector, SelectionKey.OP_READ);
    }

    /** One session's socket and what happened to it. */
    private static final java.security.SecureRandom SECRETS = new java.security.SecureRandom();

    private static final class Session {
        final long uid;
        final long mediaKey;
        SocketChannel channel;
        final ByteBuffer in = ByteBuffer.allocate(4096);
        /** The JOIN frame, until it is written. */
        byte[] joinFrame;
        long callNs;
        long joinedNs;
        long boundNs;
        long bindSentNs;
        InetSocketAddress mediaTo;
        String error;
        boolean closedByServer;

        /** Drawn per JOIN, like the SDK's; keys the session's media AEAD. */
        final byte[] mediaSecret = new byte[16];
        final io.roomlink.server.protocol.MediaKeys keys;
        long sent;

        Session(long uid, long mediaKey) {
            this.uid = uid;
            this.mediaKey = mediaKey;
            SECRETS.nextBytes(mediaSecret);
            this.keys = io.roomlink.server.protocol.MediaKeys.derive(mediaKey, mediaSecret);
        }

        boolean answered() {
            return joinedNs != 0 || error != null;
        }

        boolean done() {
            return error != null || boundNs != 0;
        }
    }

    public static void main(String[] args) throws IOException {
        WireClientWorker worker = new WireClientWorker();
        CommandLoop.serve(worker::handle);
        System.exit(0);
    }

    private String handle(String[] a) throws IOException {
        return switch (a[0]) {
            case "join" -> join(Integer.parseInt(a[1]), Long.parseLong(a[2]), new InetSocketAddress(a[3],
                    Integer.parseInt(a[4])), Integer.parseInt(a[5]), a[6], a[7], Long.parseLong(a[8]),
                    Integer.parseInt(a[9]));
            case "leaveall" -> leaveAll();
            case "clock" -> "ns=" + System.nanoTime();
            default -> throw new IllegalArgumentException("unknown command " + a[0]);
        };
    }

    private String join(int n, long firstUid, InetSocketAddress server, int perChannel, String prefix, String secret,
                        long timeoutMs, int window) throws IOException {
        // Frames are built beforehand: tokens are the app backend's work, not the join's.
        Instant expiry = Instant.now().plusSeconds(3600);
        List<Session> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long uid = firstUid + i;
            String channel = prefix + (uid / perChannel);
            Session s = new Session(uid, random.nextLong() | 1);
            batch.add(s);
            s.joinFrame = WireCodec.encode(new Message.Join(APP_KEY, channel, uid,
                    TokenBuilder.build(secret, APP_KEY, channel, uid, expiry), s.mediaKey, s.mediaSecret));
            byMediaKey.put(s.mediaKey, s);
        }
        long first = System.nanoTime();
        long deadline = first + timeoutMs * 1_000_000L;
        int next = 0;
        int inFlight = 0;
        int done = 0;
        long lastResendScan = first;
        while (done < n && System.nanoTime() < deadline) {
            while (inFlight < window && next < n) {
                Session s = batch.get(next);
                s.callNs = System.nanoTime();
                s.channel = SocketChannel.open();
                s.channel.configureBlocking(false);
                s.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                SelectionKey key = s.channel.register(selector, SelectionKey.OP_CONNECT, s);
                if (s.channel.connect(server)) {
                    onConnected(key);
                }
                next++;
                inFlight++;
            }
            selector.select(10);
            for (SelectionKey key : selector.selectedKeys()) {
                if (key.channel() == media) {
                    done += readMedia();
                    continue;
                }
                Session s = (Session) key.attachment();
                boolean wasAnswered = s.answered();
                boolean wasDone = s.done();
                try {
                    if (key.isValid() && key.isConnectable() && s.channel.finishConnect()) {
                        onConnected(key);
                    }
                    if (key.isValid() && key.isReadable()) {
                        read(key, s);
                    }
                } catch (IOException e) {
                    fail(s, e.toString());
                    key.cancel();
                    s.channel.close();
                }
                if (!wasAnswered && s.answered()) {
                    inFlight--;
                }
                if (!wasDone && s.done()) {
                    done++;
                }
            }
            selector.selectedKeys().clear();
            if (System.nanoTime() - lastResendScan > BIND_RETRY_NANOS / 3) {
                lastResendScan = System.nanoTime();
                resendLostBinds(batch);
            }
        }
        sessions.addAll(batch);
        JoinTally tally = new JoinTally();
        int bound = 0;
        long lastBound = 0;
        for (Session s : batch) {
            if (s.error != null) {
                tally.failed(s.error.replace(' ', '_'));
            } else if (s.joinedNs != 0) {
                tally.joined(s.callNs, s.joinedNs);
                if (s.boundNs != 0) {
                    bound++;
                    lastBound = Math.max(lastBound, s.boundNs);
                }
            }
        }
        return "ok=" + tally.ok + " bound=" + bound + " failed=" + tally.failed + " pending=" + (n - tally.ok - tally.failed)
                + " why=" + tally.why() + " firstCallNs=" + first + " lastDoneNs=" + tally.lastDoneNs
                + " lastBoundNs=" + lastBound + " latUs=" + tally.latencyMicros();
    }

    private void onConnected(SelectionKey key) throws IOException {
        Session s = (Session) key.attachment();
        ByteBuffer frame = ByteBuffer.wrap(s.joinFrame);
        s.channel.write(frame);
        if (frame.hasRemaining()) { // a fresh socket's send buffer always takes a JOIN; say so if it did not
            throw new IOException("JOIN not written whole");
        }
        s.joinFrame = null;
        key.interestOps(SelectionKey.OP_READ);
    }

    private void read(SelectionKey key, Session s) throws IOException {
        int r = s.channel.read(s.in);
        if (r < 0) {
            s.closedByServer = true;
            key.cancel();
            s.channel.close();
            if (s.joinedNs == 0) {
                fail(s, "closed before JOIN_OK");
            }
            return;
        }
        s.in.flip();
        ByteBuf buf = Unpooled.wrappedBuffer(s.in);
        try {
            Message m;
            while ((m = WireCodec.decode(buf)) != null) {
                onMessage(s, m);
            }
        } catch (ProtocolException e) {
            throw new IOException("bad frame from the server: " + e.getMessage(), e);
        }
        s.in.position(buf.readerIndex());
        s.in.compact();
    }

    private void onMessage(Session s, Message m) throws IOException {
        if (m instanceof Message.JoinOk ok && s.joinedNs == 0) {
            s.joinedNs = System.nanoTime();
            s.mediaTo = new InetSocketAddress(ok.mediaHost(), ok.mediaPort());
            sendBind(s);
        } else if (m instanceof Message.JoinErr err) {
            fail(s, "JOIN_ERR " + err.code());
        } else if (m instanceof Message.SessionEnd end) {
            fail(s, "SESSION_END " + end.code());
        } else if (m instanceof Message.Error err) {
            fail(s, "ERROR " + err.code());
        }
        // PEER_JOINED / PEER_LEFT / LEAVE_OK: the room's traffic, read and dropped
    }

    private void sendBind(Session s) throws IOException {
        s.bindSentNs = System.nanoTime();
        media.send(ByteBuffer.wrap(MediaCodec.seal(new MediaPacket(MediaCodec.BIND, s.mediaKey, ++s.sent, 0, 0),
                s.keys.clientToServer())), s.mediaTo);
    }

    /** @return how many sessions became done */
    private int readMedia() throws IOException {
        int done = 0;
        while (true) {
            datagram.clear();
            if (media.receive(datagram) == null) {
                return done;
            }
            datagram.flip();
            io.netty.buffer.ByteBuf d = Unpooled.wrappedBuffer(datagram);
            Session s = MediaCodec.wellFormed(d) ? byMediaKey.get(MediaCodec.mediaKey(d)) : null;
            MediaPacket p = s == null ? null : MediaCodec.open(d, s.keys.serverToClient());
            if (p != null && p.type() == MediaCodec.BIND_ACK) {
                if (s != null && s.boundNs == 0 && s.error == null) {
                    s.boundNs = System.nanoTime();
                    done++;
                }
            }
        }
    }

    /** UDP may drop a BIND or its ACK under a burst, as the SDK's media path expects; it retries too. */
    private void resendLostBinds(List<Session> batch) throws IOException {
        long now = System.nanoTime();
        for (Session s : batch) {
            if (s.joinedNs != 0 && s.boundNs == 0 && s.error == null && now - s.bindSentNs > BIND_RETRY_NANOS) {
                sendBind(s);
            }
        }
    }

    private static void fail(Session s, String why) {
        if (s.error == null && s.joinedNs == 0) {
            s.error = why;
        } else if (s.error == null) {
            s.error = "after JOIN_OK: " + why;
        }
    }

    private String leaveAll() throws IOException {
        byte[] leave = WireCodec.encode(new Message.Leave());
        int open = 0;
        for (Session s : sessions) {
            if (s.channel != null && s.channel.isOpen()) {
                try {
                    s.channel.write(ByteBuffer.wrap(leave));
                    open++;
                } catch (IOException e) {
                    s.channel.close();
                }
            }
        }
        // The server closes first, so that the TIME_WAITs are its and not ours: a next round needs our ports.
        long deadline = System.nanoTime() + 30_000_000_000L;
        int left = open;
        while (left > 0 && System.nanoTime() < deadline) {
            selector.select(10);
            for (SelectionKey key : selector.selectedKeys()) {
                if (key.channel() == media) {
                    readMedia();
                    continue;
                }
                Session s = (Session) key.attachment();
                try {
                    if (key.isValid() && key.isReadable()) {
                        read(key, s);
                    }
                } catch (IOException e) {
                    key.cancel();
                    s.channel.close();
                }
                if (!s.channel.isOpen()) {
                    left--;
                }
            }
            selector.selectedKeys().clear();
        }
        for (Session s : sessions) {
            if (s.channel != null) {
                s.channel.close();
            }
        }
        int n = sessions.size();
        sessions.clear();
        byMediaKey.clear();
        selector.selectNow();
        return "closed=" + n + " serverClosed=" + (open - left) + " of=" + open;
    }
}
