// Following a listing's pages (Nova servers, flavors, images; Glance images): all of them, or a clear error, never a short list.
import { OpenStackError } from "./errors.ts";

/** A listing that needs more pages than this is treated as never ending (1,000 pages of 1,000 is a million items). */
export const MAX_PAGES = 1000;

export interface Page<T> {
  items: T[];
  /** The next page's query (from a `*_links` "next" link or Glance's `next`); undefined on the last page. */
  next: PageQuery | undefined;
}

export interface PagingOptions {
  /** "server", "flavor", "image", for the message. */
  what: string;
  /** The listing URL, for the error. */
  where: string;
  maxPages?: number;
  /** Stop after this many pages on purpose (a bounded look, e.g. for name suggestions); no error. */
  stopAfter?: number;
}

/**
 * Every item of every page. A cloud whose "next" repeats a marker it already gave (a loop) or that
 * goes on past maxPages gets an error (category transient): a listing silently cut short would let the
 * caller act on part of the truth (count servers as missing, keep images it should have seen).
 */
/** The query of a next page; a key the link repeats (`status=A&status=B`) keeps all its values, in order. */
export type PageQuery = Record<string, string | string[]>;

/** The query of a `next` link (absolute or relative), keeping repeated keys: never collapsed to the last value. */
export function pageQueryOf(href: string): PageQuery {
  const out: PageQuery = {};
  for (const [key, value] of new URL(href, "http://relative.invalid/").searchParams) {
    const before = out[key];
    out[key] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  return out;
}

export async function followPages<T extends { id: string }>(fetchPage: (next: PageQuery | undefined) => Promise<Page<T>>, options: PagingOptions): Promise<T[]> {
  const maxPages = options.maxPages ?? MAX_PAGES;
  const items: T[] = [];
  const markers = new Set<string>();
  let next: PageQuery | undefined;
  for (let page = 1; ; page++) {
    const body = await fetchPage(next);
    items.push(...body.items);
    if (body.next === undefined || body.items.length === 0) return items;
    if (options.stopAfter !== undefined && page >= options.stopAfter) return items;
    const given = body.next["marker"];
    const marker = (Array.isArray(given) ? given.at(-1) : given) ?? body.items[body.items.length - 1]!.id;
    if (markers.has(marker)) throw pagingError(options, `page ${page + 1} would repeat marker ${marker}`);
    if (page >= maxPages) throw pagingError(options, `more than ${maxPages} pages`);
    markers.add(marker);
    next = { ...body.next, marker };
  }
}

function pagingError(options: PagingOptions, detail: string): OpenStackError {
  return new OpenStackError({
    method: "GET",
    url: options.where,
    status: 0,
    kind: "pagingLoop",
    message: `the ${options.what} listing does not end (${detail}); the listing is incomplete`,
    category: "transient",
  });
}
