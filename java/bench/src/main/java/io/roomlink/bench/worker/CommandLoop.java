package io.roomlink.bench.worker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The worker JVMs' side of {@link WorkerProcess}: one command per stdin line, answered with one
 * {@code @ok ...} line, or {@code @err ...} if the command threw (the worker carries on).
 * Returns at "exit" or at the end of input.
 */
final class CommandLoop {
    interface Handler {
        /** The reply after "@ok ", for the command's words. */
        String handle(String[] words) throws Exception;
    }

    private CommandLoop() {
    }

    static void serve(Handler handler) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.equals("exit")) {
                break;
            }
            String reply;
            try {
                reply = "@ok " + handler.handle(line.split("\\s+"));
            } catch (Exception e) {
                reply = "@err " + String.valueOf(e).replace('\n', ' ');
                e.printStackTrace();
            }
            System.out.println(reply);
            System.out.flush();
        }
    }
}
