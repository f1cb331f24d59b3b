/**
 * A consumer under load: verifies over and over with whatever key its config file holds at that
 * moment, from four concurrent loops, and reports every verification that did not pass.
 */
export function verifyContinuously(
  readKey: () => string,
  verify: (key: string) => Promise<{ code: string; keyId: string | null }>,
) {
  let running = true;
  let verifications = 0;
  const failures: { code: string; keyId: string | null; at: string }[] = [];
  const keyIdsSeen: string[] = [];
  const loop = async () => {
    while (running) {
      try {
        const result = await verify(readKey());
        verifications += 1;
        if (result.keyId && !keyIdsSeen.includes(result.keyId)) keyIdsSeen.push(result.keyId);
        if (result.code !== 'VALID')
          failures.push({ code: result.code, keyId: result.keyId, at: new Date().toISOString() });
      } catch (error) {
        failures.push({ code: `ERROR ${(error as Error).message}`, keyId: null, at: new Date().toISOString() });
      }
      await new Promise((wait) => setTimeout(wait, 20));
    }
  };
  const loops = [loop(), loop(), loop(), loop()];
  return {
    async stop() {
      // Keep going a moment past the end of the deployment: the old key is retired by then.
      await new Promise((wait) => setTimeout(wait, 1000));
      running = false;
      await Promise.all(loops);
      return { verifications, failures, keyIdsSeen };
    },
  };
}
