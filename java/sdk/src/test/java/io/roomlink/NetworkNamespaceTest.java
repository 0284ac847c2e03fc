package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.roomlink.server.RoomServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real network, not a proxy: the client runs in its own Linux network namespace joined to the
 * server by a veth link ({@link ClientNamespace}), and the test takes the client's link down and
 * up again. Needs root (CI has it); skips with a message only where network namespaces cannot be
 * made.
 */
class NetworkNamespaceTest {
    private ClientNamespace net;

    @BeforeEach
    void makeNetwork() throws Exception {
        net = ClientNamespace.createOrSkip("the network-namespace test");
    }

    @AfterEach
    void removeNetwork() throws Exception {
        if (net != null) {
            net.close();
        }
    }

    @Test
    void linkDownThenUpReconnectsAndRejoins() throws Exception {
        try (RoomServer server = RoomServer.builder().bindAddress(ClientNamespace.SERVER_ADDRESS).signalPort(0)
                .mediaPort(0).tokenSecret(Fixtures.SECRET).plaintext().start()) {  // the certificate names only loopback
            RecordingListener events = new RecordingListener("netns-client");
            try (ClientNamespace.Client client = net.startClient(server.signalPort(), Fixtures.token("netns", 9),
                    "netns", 9, events)) {
                events.awaitEvent("onJoinChannel(OK, uid=9)", Duration.ofSeconds(30));
                events.clear();

                net.inNamespace("ip", "link", "set", net.clientSide, "down");
                List<String> down = events.await(l -> l.contains("onReconnectingStart()"), Duration.ofSeconds(15),
                        "onReconnectingStart()").stream().filter(NetworkNamespaceTest::isState).toList();
                assertEquals(2, down.size(), "RECONNECTING and onReconnectingStart: " + down);
                net.inNamespace("ip", "link", "set", net.clientSide, "up");

                List<String> seen = events.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(20)).stream()
                        .filter(NetworkNamespaceTest::isState).toList();
                assertEquals(List.of(down.get(0), "onReconnectingStart()",
                        "state(CONNECTED, REJOIN_SUCCEED)", "onRejoinChannel(OK)"), seen);
                assertEquals(true, down.get(0).startsWith("state(RECONNECTING, "), down.get(0));
                assertEquals(java.util.Set.of(9L), server.members(Fixtures.APP_KEY, "netns"));
            }
        }
    }

    /** Everything but the connection type, which HostNetworkEventsTest checks on its own. */
    static boolean isState(String line) {
        return !line.startsWith("connectionType(");
    }
}
