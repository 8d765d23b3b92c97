// Fidelity to the book: the emulator's Keystone v2.0 and Nova v1.1 answer in the shapes the book printed.
//
// The book's samples (test/fixtures/book/) are transcriptions, not recordings: hosts, ids and values are the
// book's. Requests are translated (host -> emulator prefix, tenant "openstack" -> the demo project, user
// "joe" -> demo) and answers are compared by status, keys and value types, and by exact body for faults.
import { describe, expect, it } from "vitest";
import { FakeCloud } from "../fake-cloud/cloud.ts";
import { shapeDifferences } from "./shape.ts";
import keystoneBook from "../fixtures/book/keystone-v2.0-token-book.json";
import createServer from "../fixtures/book/nova-v1.1-create-server.json";
import faults from "../fixtures/book/nova-v1.1-faults.json";
import flavors from "../fixtures/book/nova-v1.1-flavors.json";
import images from "../fixtures/book/nova-v1.1-images.json";
import serverDetail from "../fixtures/book/nova-v1.1-server-detail.json";

const BASE = "http://book.test";

interface BookSample {
  request: { method: string; url: string; body?: unknown };
  response: { status: number; body: unknown };
}

async function bookCloud() {
  const cloud = new FakeCloud({ mode: "book", seed: 2012, buildMs: 1000 });
  const project = [...cloud.projects.values()].find((p) => p.name === "demo")?.id ?? "";
  const login = await cloud.fetch(`${BASE}/identity/v2.0/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ passwordCredentials: { username: "demo", password: "demo-password" } }),
  });
  const token = ((await login.json()) as { auth: { token: { id: string } } }).auth.token.id;
  /** Book text -> emulator text. */
  const translate = (text: string) =>
    text
      .split("http://localhost:8774").join(`${BASE}/compute`)
      .split("http://localhost:5000").join(`${BASE}/identity`)
      .split("openstack").join(project);
  const send = async (sample: BookSample) => {
    const init: RequestInit = { method: sample.request.method, headers: { "X-Auth-Token": token, "content-type": "application/json" } };
    if (sample.request.body !== undefined) init.body = translate(JSON.stringify(sample.request.body));
    const res = await cloud.fetch(translate(sample.request.url), init);
    return { status: res.status, body: (await res.json()) as unknown };
  };
  return { cloud, project, token, translate, send };
}

describe("fidelity: the emulator answers in the book's shapes", () => {
  it("POST /v2.0/tokens with the book's body answers the book's token and catalog", async () => {
    const cloud = new FakeCloud();
    const body = JSON.stringify(keystoneBook.request.body).replace('"joe"', '"demo"').replace('"shhh"', '"demo-password"');
    const res = await cloud.fetch(`${BASE}/identity/v2.0/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(keystoneBook.response.status);
    expect(shapeDifferences(keystoneBook.response.body, await res.json())).toEqual([]);
  });

  it("POST /v1.1/{tenant}/servers with refs as URLs and personality answers the book's server body", async () => {
    const { send } = await bookCloud();
    const answer = await send(createServer as BookSample);
    expect(answer.status).toBe(createServer.response.status);
    expect(shapeDifferences(createServer.response.body, answer.body)).toEqual([]);
  });

  it("GET /v1.1/{tenant}/servers/1 answers the book's ACTIVE server body", async () => {
    const { cloud, send } = await bookCloud();
    await send(createServer as BookSample);
    cloud.advance(1000);
    const answer = await send(serverDetail as BookSample);
    expect(answer.status).toBe(serverDetail.response.status);
    expect(shapeDifferences(serverDetail.response.body, answer.body)).toEqual([]);
  });

  it("GET /v1.1/{tenant}/flavors answers numeric ids with links", async () => {
    const { send } = await bookCloud();
    const answer = await send(flavors as BookSample);
    expect(shapeDifferences(flavors.response.body, answer.body)).toEqual([]);
  });

  it("GET /v1.1/{tenant}/images answers numeric ids with links", async () => {
    const { send } = await bookCloud();
    const answer = await send(images as BookSample);
    expect(shapeDifferences(images.response.body, answer.body)).toEqual([]);
  });

  it("answers the book's fault for a missing server name", async () => {
    const { send } = await bookCloud();
    const answer = await send({ request: { method: "POST", url: "http://localhost:8774/v1.1/openstack/servers", body: { server: { imageRef: "1", flavorRef: "1" } } }, response: faults["missing name"] });
    expect(answer).toEqual(faults["missing name"]);
  });

  it("answers the book's fault for a missing imageRef", async () => {
    const { send } = await bookCloud();
    const answer = await send({ request: { method: "POST", url: "http://localhost:8774/v1.1/openstack/servers", body: { server: { name: "x", flavorRef: "1" } } }, response: faults["missing or wrong imageRef"] });
    expect(answer).toEqual(faults["missing or wrong imageRef"]);
  });

  it("answers the book's fault for a wrong flavorRef", async () => {
    const { send } = await bookCloud();
    const answer = await send({ request: { method: "POST", url: "http://localhost:8774/v1.1/openstack/servers", body: { server: { name: "x", imageRef: "1", flavorRef: "99" } } }, response: faults["missing or wrong flavorRef"] });
    expect(answer).toEqual(faults["missing or wrong flavorRef"]);
  });

  it("answers the book's fault for deleting a missing server", async () => {
    const { send } = await bookCloud();
    const answer = await send({ request: { method: "DELETE", url: "http://localhost:8774/v1.1/openstack/servers/42" }, response: faults["delete of a missing server or image"] });
    expect(answer).toEqual(faults["delete of a missing server or image"]);
  });

  it("answers a bare 401 Unauthorized without a token", async () => {
    const { cloud, project } = await bookCloud();
    const res = await cloud.fetch(`${BASE}/compute/v1.1/${project}/servers`);
    expect([res.status, await res.text()]).toEqual([faults["no or bad X-Auth-Token"].status, faults["no or bad X-Auth-Token"].body]);
  });

  it("reports the book's suggested limits in /limits", async () => {
    const { send } = await bookCloud();
    const answer = await send({ request: { method: "GET", url: "http://localhost:8774/v1.1/openstack/limits" }, response: { status: 200, body: null } });
    expect((answer.body as { limits: { absolute: object } }).limits.absolute).toMatchObject(faults["book limits (suggested defaults)"]);
  });
});
