package io.roomlink.server.protocol;

import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * Budget and reproduction of a seeded fuzz property: a fixed number of iterations from a fixed
 * seed (both overridable: {@code -Droomlink.fuzz.iterations=N -Droomlink.fuzz.seed=S}), each
 * iteration with its own generator derived from the seed, so a failure names the seed, the
 * iteration and the input, and reruns alone.
 */
final class FuzzRun {
    static final long SEED = Long.decode(System.getProperty("roomlink.fuzz.seed", "0x524C5EED"));
    static final int ITERATIONS = Integer.getInteger("roomlink.fuzz.iterations", 20_000);

    interface Property {
        void check(SplittableRandom random, Inputs inputs) throws Exception;
    }

    /** What an iteration fed to the decoder, for the failure message. */
    static final class Inputs {
        private final StringBuilder described = new StringBuilder();

        byte[] record(byte[] input) {
            described.append("\n  input ").append(input.length).append(" bytes: ")
                    .append(HexFormat.of().formatHex(input, 0, Math.min(input.length, 512)))
                    .append(input.length > 512 ? "…" : "");
            return input;
        }

        void note(String text) {
            described.append("\n  ").append(text);
        }
    }

    private FuzzRun() {
    }

    static void forAll(String name, Property property) {
        for (int i = 0; i < ITERATIONS; i++) {
            SplittableRandom random = new SplittableRandom(SEED + 0x9E3779B97F4A7C15L * i);
            Inputs inputs = new Inputs();
            try {
                property.check(random, inputs);
            } catch (Throwable t) {
                throw new AssertionError(name + " failed at iteration " + i + " of seed "
                        + "0x" + Long.toHexString(SEED) + " (rerun with -Droomlink.fuzz.seed=0x"
                        + Long.toHexString(SEED) + " -Droomlink.fuzz.iterations=" + (i + 1) + "): " + t
                        + inputs.described, t);
            }
        }
    }
}
