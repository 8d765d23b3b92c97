// Measures the tick's slim listing parse at 10,000 servers, with and without each server's image id (snapshot retention's "in use" guard), its flavor name (flavor fallback) and its addresses (the members view).
import { z } from "zod";
import { ServerSummarySchema, ServerSummaryWithAddressesSchema } from "../../src/openstack/compute/schemas.ts";

const COUNT = Number(process.argv[2] ?? 10_000);
const RUNS = 15;

/** A server as Nova 2.93 lists it in /servers/detail (the fields that cost: metadata, addresses, links, image, flavor). */
function server(i: number) {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
  return {
    id,
    name: `web-${i}`,
    status: "ACTIVE",
    created: "2026-11-26T20:18:17Z",
    updated: "2026-11-26T20:19:00Z",
    metadata: { "novascale:group": `g${i % 100}`, "novascale:boot": "b1", role: "web" },
    "OS-EXT-STS:task_state": null,
    "OS-EXT-STS:vm_state": "active",
    addresses: { private: [{ addr: `10.0.${(i >> 8) & 255}.${i & 255}`, version: 4, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01" }] },
    image: { id: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", links: [{ rel: "bookmark", href: "http://127.0.0.1:8774/images/ac2cb8ad-cbfb-4989-8915-94ce4c3565b7" }] },
    flavor: { vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, original_name: "m1.tiny", extra_specs: {} },
    links: [{ rel: "self", href: `http://127.0.0.1:8774/v2.1/servers/${id}` }],
  };
}

const body = JSON.stringify({ servers: Array.from({ length: COUNT }, (_, i) => server(i)) });
const full = z.object({ servers: z.array(ServerSummaryWithAddressesSchema) });
const withImage = z.object({ servers: z.array(ServerSummarySchema) });
const withoutImage = z.object({ servers: z.array(ServerSummarySchema.omit({ image: true })) });
// Flavor fallback reads the flavor's name (original_name, 2.47+) or id: the old shape kept only its size.
const sizeOnlyFlavor = z.object({ servers: z.array(ServerSummarySchema.extend({ flavor: z.object({ vcpus: z.number().optional(), ram: z.number().optional() }).optional() })) });

// Interleaved, so load on the machine and GC hit both alike.
function compare(a: z.ZodType, b: z.ZodType): [number, number] {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    for (const [schema, out] of [[a, ta], [b, tb]] as const) {
      const json: unknown = JSON.parse(body);
      const t0 = performance.now();
      schema.parse(json);
      out.push(performance.now() - t0);
    }
  }
  const med = (t: number[]) => t.sort((x, y) => x - y)[Math.floor(t.length / 2)]!;
  return [med(ta), med(tb)];
}

compare(withoutImage, withImage); // warm-up
const [without, withId] = compare(withoutImage, withImage);
const [withIdAgain, withAddresses] = compare(withImage, full);
const [sizeOnly, withFlavorName] = compare(sizeOnlyFlavor, withImage);
console.log(`listing of ${COUNT} servers, ${(body.length / 1e6).toFixed(1)} MB; zod parse, median of ${RUNS} interleaved runs (JSON.parse excluded):`);
console.log(`  without the image id: ${without.toFixed(1)} ms`);
console.log(`  with the image id:    ${withId.toFixed(1)} ms`);
console.log(`  with the image id (again, paired with the next): ${withIdAgain.toFixed(1)} ms`);
console.log(`  flavor size only: ${sizeOnly.toFixed(1)} ms; with its name and id (flavor fallback, the tick's shape): ${withFlavorName.toFixed(1)} ms`);
console.log(`  with image id and addresses (the members view only; the tick does without): ${withAddresses.toFixed(1)} ms`);
