// An OpenID Connect provider for the sign-in tests: the npm `oidc-provider` package, served on
// loopback. Its development login page takes any account name from the configuration (any
// password); consent is granted up front, as a college's provider does for its own services.
// Run: node oidc_provider.mjs CONFIG.json (port, clients, accounts); prints "ready".
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  cookies: { keys: ["sign-in-tests-only"] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "student_id"],
  },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { ...claims }; } };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
});
provider.listen(config.port, "127.0.0.1", () => {
  console.log("ready");
});
