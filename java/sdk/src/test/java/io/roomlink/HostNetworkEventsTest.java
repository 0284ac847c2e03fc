package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.server.RoomServer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The host's own network events, made by the kernel: the client JVM runs in a network namespace
 * ({@link ClientNamespace}) and the test changes its link and address with iproute2. The engine
 * hears them through rtnetlink and must not wait for its keepalive timeout (1.5 s at the defaults).
 * Bounds are loose (the goal, 50 ms at p99, is measured by the bench's netlink row).
 */
class HostNetworkEventsTest {
    /** 5x the 100 ms: the time includes starting `ip` in the namespace. */
    private static final Duration LINK_DOWN_BOUND = Duration.ofMillis(500);
    /** The kernel may report carrier up to a second after `ip link set up` (linkwatch). */
    private static final Duration LINK_UP_BOUND = Duration.ofSeconds(5);

    private ClientNamespace net;
    private RoomServer server;

    @BeforeEach
    void makeNetwork() throws Exception {
        net = ClientNamespace.createOrSkip("the host-network-events test");
        server = RoomServer.builder().bindAddress(ClientNamespace.SERVER_ADDRESS).signalPort(0).mediaPort(0)
                .tokenSecret(Fixtures.SECRET).plaintext().start();  // the certificate names only loopback
    }

    @AfterEach
    void removeNetwork() throws Exception {
        if (server != null) {
            server.close();
        }
        if (net != null) {
            net.close();
        }
    }

    @Test
    void linkDownIsAnOutageAtOnceAndLinkUpReconnectsPromptly() throws Exception {
        TimedEvents events = new TimedEvents("netns-client");
        try (ClientNamespace.Client client = joinedClient("links", 5, events)) {
            assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=5)", "connectionType(ETHERNET)"), events.events());
            events.clear();

            long downAt = System.nanoTime();
            net.inNamespace("ip", "link", "set", net.clientSide, "down");
            events.awaitEvent("state(RECONNECTING, SIGNAL_DISCONNECTED)", Duration.ofSeconds(5));
            long detectedMs = (events.arrival("state(RECONNECTING, SIGNAL_DISCONNECTED)") - downAt) / 1_000_000;
            System.out.println("link down -> RECONNECTING(SIGNAL_DISCONNECTED): " + detectedMs + " ms");
            assertTrue(detectedMs <= LINK_DOWN_BOUND.toMillis(), "link down reported after " + detectedMs + " ms");
            events.awaitEvent("connectionType(NONE)", Duration.ofSeconds(5));

            long upAt = System.nanoTime();
            net.inNamespace("ip", "link", "set", net.clientSide, "up");
            events.awaitEvent("onRejoinChannel(OK)", LINK_UP_BOUND);
            events.awaitEvent("connectionType(ETHERNET)", Duration.ofSeconds(5));
            long recoveredMs = (events.arrival("state(CONNECTED, REJOIN_SUCCEED)") - upAt) / 1_000_000;
            System.out.println("link up -> CONNECTED(REJOIN_SUCCEED): " + recoveredMs + " ms");

            assertEquals(Outages.SIGNAL_RESUMED, lifecycle(events.events()));
            assertEquals(List.of("connectionType(NONE)", "connectionType(ETHERNET)"), types(events.events()));
            assertEquals(Set.of(5L), server.members(Fixtures.APP_KEY, "links"));
        }
    }

    @Test
    void aChangeOfAddressIsOneOutageAndAResume() throws Exception {
        TimedEvents events = new TimedEvents("netns-client");
        try (ClientNamespace.Client client = joinedClient("moves", 6, events)) {
            events.clear();

            long changedAt = System.nanoTime();
            net.inNamespace("ip", "addr", "del", ClientNamespace.CLIENT_ADDRESS + ClientNamespace.PREFIX,
                    "dev", net.clientSide);
            net.inNamespace("ip", "addr", "add", "10.231.77.3" + ClientNamespace.PREFIX, "dev", net.clientSide);
            events.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(10));
            long detectedMs = (events.arrival("state(RECONNECTING, SIGNAL_DISCONNECTED)") - changedAt) / 1_000_000;
            long resumedMs = (events.arrival("state(CONNECTED, REJOIN_SUCCEED)") - changedAt) / 1_000_000;
            System.out.println("address removed -> RECONNECTING: " + detectedMs + " ms; new address -> CONNECTED: "
                    + resumedMs + " ms after the change began");
            assertTrue(detectedMs <= LINK_DOWN_BOUND.toMillis(), "address loss reported after " + detectedMs + " ms");

            assertEquals(Outages.SIGNAL_RESUMED, lifecycle(events.events()));
            assertEquals(Set.of(6L), server.members(Fixtures.APP_KEY, "moves"));
        }
    }

    /** A client JVM in the namespace, joined as {@code uid} and told its connection type. */
    private ClientNamespace.Client joinedClient(String channel, long uid, TimedEvents events) throws Exception {
        ClientNamespace.Client client = net.startClient(server.signalPort(), Fixtures.token(channel, uid), channel, uid,
                events);
        try {
            // The connection type comes once, right after joining: a veth is an Ethernet device.
            events.await(l -> l.contains("connectionType(ETHERNET)"), Duration.ofSeconds(30), "the type");
            return client;
        } catch (RuntimeException | Error e) {
            client.close();
            throw e;
        }
    }

    private static List<String> lifecycle(List<String> lines) {
        return lines.stream().filter(NetworkNamespaceTest::isState).toList();
    }

    private static List<String> types(List<String> lines) {
        return lines.stream().filter(l -> !NetworkNamespaceTest.isState(l)).toList();
    }
}
