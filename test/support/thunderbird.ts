// The vendored Thunderbird holiday calendars (test/core/schedule/fixtures/thunderbird/calendars.tar.gz.b64) as {path: text}, unpacked inside workerd.
import bundle from "../core/schedule/fixtures/thunderbird/calendars.tar.gz.b64?raw";

/** The files of the gzip'd USTAR archive in base64 text (see the README beside it). */
export async function thunderbirdCalendars(): Promise<Map<string, string>> {
  const packed = Uint8Array.from(atob(bundle.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  const tar = new Uint8Array(await new Response(new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  const files = new Map<string, string>();
  const ascii = (from: number, length: number) => new TextDecoder().decode(tar.subarray(from, from + length)).replace(/\0.*$/s, "");
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = ascii(at, 100);
    if (name === "") break;
    const size = parseInt(ascii(at + 124, 12).trim(), 8);
    const prefix = ascii(at + 345, 155);
    // What a paste into a JSON body carries: the file's text (one file is Latin-1; its accents become U+FFFD, its dates do not change).
    files.set(prefix === "" ? name : `${prefix}/${name}`, new TextDecoder("utf-8").decode(tar.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
