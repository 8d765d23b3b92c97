// Values handed from vitest globalSetup (Node) to tests and worker bindings (workerd).
declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the fake cloud on loopback, e.g. http://127.0.0.1:41234 */
    fakeCloudUrl: string;
    /** Base URL of the webhook receiver on loopback (test/fake-cloud/node/webhook-receiver.ts). */
    webhookUrl: string;
  }
}
export {};
