package io.roomlink.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.scenario.Scenarios;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the whole suite in quick mode, as a child JVM exactly like the README's command does, and
 * checks that it completed: exit status 0 (every scenario's validity checks passed) and
 * results.json written with every scenario in it. Goals are not asserted here: they are reported.
 */
class QuickSuiteTest {
    @Test
    void quickSuiteCompletesAndWritesResults() throws IOException, InterruptedException {
        Path out = Path.of(System.getProperty("bench.outputDirectory", "target/bench"));
        Files.createDirectories(out);
        Path results = out.resolve("results.json");
        Files.deleteIfExists(results);
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Bench.javaBin(), "-Xmx1g", "-Djna.nosys=true",
                "-Dbench.classpath=" + classpath, "-cp", classpath, BenchMain.class.getName(), "--quick",
                "--out=" + out.toAbsolutePath()));
        Path log = out.resolve("quick-run.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean finished = p.waitFor(8, TimeUnit.MINUTES);
        if (!finished) {
            p.destroyForcibly();
        }
        String output = Files.readString(log);
        assertTrue(finished, "the quick suite did not finish within 8 minutes:\n" + output);
        assertEquals(0, p.exitValue(), "the quick suite failed (a scenario's checks did not pass):\n" + output);
        assertTrue(Files.exists(results), "no " + results);
        String json = Files.readString(results);
        assertTrue(json.contains("\"mode\": \"quick\""), json);
        assertTrue(json.contains("\"status\": \"OK\""), json);
        assertFalse(json.contains("\"status\": \"FAILED\""), json);
        for (String id : Scenarios.ids()) {
            assertTrue(json.contains("\"id\": \"" + id + "\""), "scenario " + id + " missing from results.json");
        }
        assertTrue(json.contains("\"cores\""), "machine record missing");
        System.out.println(output.replace(File.separator + File.separator, File.separator));
    }
}
