// Following a listing's pages (Nova servers, flavors, images; Glance images): all of them, or a clear error, never a short list.
import { OpenStackError } from "./errors.ts";

/** A listing that needs more pages than this is treated as never ending (1,000 pages of 1,000 is a million items). */
export const MAX_PAGES = 1000;

export interface Page<T> {
  items: T[];
  /** The next page's query (from a `*_links` "next" link or Glance's `next`); undefined on the last page. */
  next: Record<string, string> | undefined;
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
export async function followPages<T extends { id: string }>(fetchPage: (next: Record<string, string> | undefined) => Promise<Page<T>>, options: PagingOptions): Promise<T[]> {
  const maxPages = options.maxPages ?? MAX_PAGES;
  const items: T[] = [];
  const markers = new Set<string>();
  let next: Record<string, string> | undefined;
  for (let page = 1; ; page++) {
    const body = await fetchPage(next);
    items.push(...body.items);
    if (body.next === undefined || body.items.length === 0) return items;
    if (options.stopAfter !== undefined && page >= options.stopAfter) return items;
    const marker = body.next["marker"] ?? body.items[body.items.length - 1]!.id;
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
