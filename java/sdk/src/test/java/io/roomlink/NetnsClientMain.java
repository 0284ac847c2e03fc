package io.roomlink;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A client process for {@link NetworkNamespaceTest}: it runs inside a network namespace, joins,
 * and prints every callback as one line on stdout (the same text RecordingListener records).
 * It leaves and exits when its stdin closes.
 *
 * <p>Arguments: host port token channel uid
 */
public final class NetnsClientMain {
    private NetnsClientMain() {
    }

    /** Callbacks come one at a time, so lines keep their order. */
    private static void print(String line) {
        synchronized (System.out) {
            System.out.println("EVENT " + line);
            System.out.flush();
        }
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        RoomEngineConfig config = Fixtures.config(port).server(args[0], port).plaintext(true).build();
        RecordingListener recorder = new RecordingListener("netns-client") {
            @Override
            void onRecorded(String line) {
                print(line);
            }

            @Override
            public void onConnectionTypeChanged(ConnectionType type) {
                print("connectionType(" + type + ")");
            }
        };
        try (RoomEngine engine = RoomEngine.create(config, recorder)) {
            int rc = engine.joinChannel(args[2], args[3], Long.parseLong(args[4]));
            System.out.println("JOIN_RC " + rc);
            System.out.flush();
            BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (stdin.readLine() != null) {
                // The test closes stdin when it is done.
            }
        }
    }
}
