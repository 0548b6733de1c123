// How every test and benchmark launches Chromium: Debian's build, never a downloaded one,
// with nothing of its own on the network.
export const chromiumLaunchOptions = {
  executablePath: process.env.FIREBREAK_CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};
