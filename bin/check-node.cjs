// Runs before `npm start` and `npm test` on whatever `node` the PATH has, so keep it to syntax any Node parses.
// `npm ci` installs Node 22 (the `node` devDependency) first on the PATH of every npm script; this line is what
// a newcomer sees instead of a stack trace when that did not happen.
var major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(
    "ccp-poller needs Node.js 22 or later, but npm scripts run Node " +
      process.versions.node +
      " (" +
      process.execPath +
      ") on " +
      process.platform +
      "-" +
      process.arch +
      ". " +
      "Run `npm ci` to install the Node 22 this project pins; if that fails on this platform, install Node.js 22 " +
      "(https://nodejs.org) and run `npm ci` again.",
  );
  process.exit(1);
}
