package io.roomlink.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaKeys;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A small scriptable fake room server for testing a client against a hostile server (the SDK's
 * HostileServer*Test suite, the bench's hostile-server row): plain TCP and UDP on
 * 127.0.0.1, speaking signaling v1 and media v2 through the server's own codecs (it derives each client's
 * media keys from the JOIN/RESUME it decoded, opens BINDs and PINGs with them and seals its answers), answering JOIN / RESUME / PING /
 * BIND / media PING like a real server unless the script says otherwise, and letting a test send
 * whatever it likes on each connection (floods, trickles, repeated answers). Threads per
 * connection; good for a handful of engines, which is all the suite needs.
 */
public final class ScriptedServer implements AutoCloseable {
    /** One accepted signal connection. */
    public final class Conn {
        private final Socket socket;
        private final OutputStream out;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
        }

        public void send(Message m) {
            ByteBuf buf = Unpooled.buffer();
            WireCodec.encode(m, buf);
            sendRaw(ByteBufUtil.getBytes(buf));
        }

        public void sendRaw(byte[] bytes) {
            try {
                synchronized (out) {
                    out.write(bytes);
                    out.flush();
                }
            } catch (IOException e) {
                close();
            }
        }

        public boolean isOpen() {
            return !socket.isClosed();
        }

        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    /** What the script does after the server answered a JOIN / RESUME on a connection. */
    public interface AfterAnswer {
        void run(Conn conn) throws Exception;
    }

    /**
     * An {@link AfterAnswer} that announces distinct peers (uid 1, 2, …) without end, from a thread
     * of its own while the connection is open; {@code sent} counts the PEER_JOINEDs.
     */
    public static AfterAnswer peerJoinedFlood(AtomicLong sent) {
        return conn -> whileOpen(conn, "peer-flood", uid -> {
            conn.send(new Message.PeerJoined(uid));
            sent.incrementAndGet();
        });
    }

    /** As {@link #peerJoinedFlood}, each peer leaving right after it joined; {@code sent} counts the pairs. */
    public static AfterAnswer joinLeaveChurn(AtomicLong sent) {
        return conn -> whileOpen(conn, "churn", uid -> {
            conn.send(new Message.PeerJoined(uid));
            conn.send(new Message.PeerLeft(uid, Message.PeerLeft.REASON_NORMAL));
            sent.incrementAndGet();
        });
    }

    /** An {@link AfterAnswer} that sends {@code burst} over and over, from a thread of its own while the connection is open. */
    public static AfterAnswer rawFlood(String name, byte[] burst) {
        return conn -> whileOpen(conn, name, i -> conn.sendRaw(burst));
    }

    /** Runs {@code step} with 1, 2, … on a new thread until {@code conn} is closed. */
    private static void whileOpen(Conn conn, String name, LongConsumer step) {
        new Thread(() -> {
            for (long i = 1; conn.isOpen(); i++) {
                step.accept(i);
            }
        }, name).start();
    }

    public volatile boolean answerSignalPings = true;
    public volatile boolean answerMediaPings = true;
    public volatile boolean answerTwice;
    public volatile AfterAnswer afterAnswer = conn -> { };
    /** The media address of the last BIND, so a script can flood it. */
    public volatile SocketAddress mediaClient;
    /** The mediaKey of the last BIND. */
    public volatile long mediaKey;

    public final AtomicInteger accepted = new AtomicInteger();
    public final AtomicInteger answers = new AtomicInteger();
    public final List<Conn> conns = new CopyOnWriteArrayList<>();

    private final ServerSocket listener;
    private final DatagramSocket media;
    private final AtomicLong nextSession = new AtomicLong(1000);
    private volatile boolean closed;

    public ScriptedServer() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        media = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        daemon("scripted-accept", this::acceptLoop);
        daemon("scripted-media", this::mediaLoop);
    }

    public int signalPort() {
        return listener.getLocalPort();
    }

    /**
     * Sends {@code p} sealed under the s2c key of its mediaKey, as learnt from the JOIN/RESUME that
     * named it: an authentic datagram, even if the client never asked for it (a PONG flood). A
     * counter of 0 is replaced by the key's next one; a key no client named is sealed under keys
     * derived from an all-zero secret, which the client cannot open (a forgery).
     */
    public void sendMedia(SocketAddress to, MediaPacket p) throws IOException {
        KeyState k = keys.computeIfAbsent(p.mediaKey(), key -> new KeyState(MediaKeys.derive(key, new byte[16])));
        MediaPacket numbered = p.counter() == 0 ? p.withCounter(k.sent.incrementAndGet()) : p;
        sendRaw(to, MediaCodec.seal(numbered, k.keys.serverToClient()));
    }

    /** Sends {@code p} sealed under keys the client does not hold: a forged datagram it must drop. */
    public void sendForgedMedia(SocketAddress to, MediaPacket p) throws IOException {
        byte[] wrong = new byte[16];
        wrong[0] = (byte) 0xFF;
        MediaPacket numbered = p.counter() == 0 ? p.withCounter(1) : p;
        sendRaw(to, MediaCodec.seal(numbered, MediaKeys.derive(p.mediaKey(), wrong).serverToClient()));
    }

    /** Sends raw bytes to the client's media address (malformed or replayed datagrams). */
    public void sendRaw(SocketAddress to, byte[] bytes) throws IOException {
        media.send(new DatagramPacket(bytes, bytes.length, to));
    }

    /** The media keys of {@code mediaKey} as named by a JOIN/RESUME, or {@code null}. */
    public MediaKeys mediaKeys(long mediaKey) {
        KeyState k = keys.get(mediaKey);
        return k == null ? null : k.keys;
    }

    private record KeyState(MediaKeys keys, AtomicLong sent) {
        KeyState(MediaKeys keys) {
            this(keys, new AtomicLong());
        }
    }

    /** The most media keys remembered; a script that names more forgets the oldest first. */
    private static final int MAX_KEYS = 4096;

    /** mediaKey → keys and s2c counter, from the latest {@value #MAX_KEYS} JOIN/RESUMEs decoded. */
    private final Map<Long, KeyState> keys = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(64, 0.75f, false) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<Long, KeyState> eldest) {
                    return size() > MAX_KEYS;
                }
            });

    private static void daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = listener.accept();
                accepted.incrementAndGet();
                Conn conn = new Conn(s);
                conns.add(conn);
                daemon("scripted-conn", () -> serve(conn));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Conn conn) {
        try (DataInputStream in = new DataInputStream(conn.socket.getInputStream())) {
            while (!closed) {
                int len = in.readInt();
                byte[] frame = new byte[4 + len];
                ByteBuf header = Unpooled.wrappedBuffer(frame);
                header.writerIndex(0).writeInt(len);
                in.readFully(frame, 4, len);
                Message m = WireCodec.decodeFrame(frame);
                if (m instanceof Message.Join join) {
                    keys.put(join.mediaKey(), new KeyState(MediaKeys.derive(join.mediaKey(), join.mediaSecret())));
                    answer(conn, new Message.JoinOk(7, nextSession.getAndIncrement(), new byte[16], "127.0.0.1",
                            media.getLocalPort(), System.currentTimeMillis()));
                } else if (m instanceof Message.Resume resume) {
                    keys.put(resume.mediaKey(), new KeyState(MediaKeys.derive(resume.mediaKey(), resume.mediaSecret())));
                    answer(conn, new Message.ResumeOk(7, true, resume.sessionId(), new byte[16], "127.0.0.1",
                            media.getLocalPort()));
                } else if (m instanceof Message.Ping ping && answerSignalPings) {
                    conn.send(new Message.Pong(ping.nonce()));
                } else if (m instanceof Message.Leave) {
                    conn.send(new Message.LeaveOk());
                    conn.close();
                    return;
                }
            }
        } catch (Exception e) {
            conn.close();
        }
    }

    private void answer(Conn conn, Message answer) throws Exception {
        conn.send(answer);
        if (answerTwice) {
            conn.send(answer);
        }
        answers.incrementAndGet();
        afterAnswer.run(conn);
    }

    private void mediaLoop() {
        byte[] buf = new byte[1500];
        while (!closed) {
            DatagramPacket d = new DatagramPacket(buf, buf.length);
            try {
                media.receive(d);
                if (d.getLength() != MediaCodec.SIZE) {
                    continue;
                }
                KeyState k = keys.get(io.netty.buffer.Unpooled.wrappedBuffer(buf, 0, MediaCodec.SIZE).getLong(4));
                MediaPacket p = k == null ? null : MediaCodec.open(buf, 0, d.getLength(), k.keys.clientToServer());
                if (p == null) {
                    continue; // unknown key (BIND before JOIN: the client retransmits), or not authentic
                }
                if (p.type() == MediaCodec.BIND) {
                    mediaClient = d.getSocketAddress();
                    mediaKey = p.mediaKey();
                    sendMedia(d.getSocketAddress(), p.reply(MediaCodec.BIND_ACK, 0));
                } else if (p.type() == MediaCodec.PING && answerMediaPings) {
                    sendMedia(d.getSocketAddress(), p.reply(MediaCodec.PONG, 0));
                }
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        media.close();
        conns.forEach(Conn::close);
    }
}
