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

    public static void main(String[] args) throws Exception {
        RoomEngineConfig config = RoomEngineConfig.builder().appKey(Fixtures.APP_KEY)
                .server(args[0], Integer.parseInt(args[1])).plaintext(true).build();
        RecordingListener recorder = new RecordingListener("netns-client") {
            @Override
            void onRecorded(String line) {
                synchronized (System.out) {
                    System.out.println("EVENT " + line);
                    System.out.flush();
                }
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
