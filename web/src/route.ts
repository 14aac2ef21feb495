// Pages are hash routes (#/platform…): the gateway serves one HTML document at `/`, whatever the page.
import { useEffect, useState } from "preact/hooks";

export const PAGES = [
  { id: "platform", title: "Stripe platform" },
  { id: "webhooks", title: "Webhooks" },
  { id: "connections", title: "Connections" },
] as const;

export type PageId = (typeof PAGES)[number]["id"];

export function pageHref(id: PageId): string {
  return `#/${id}`;
}

function currentPage(): PageId | null {
  const id = location.hash.replace(/^#\/?/, "");
  return PAGES.find((page) => page.id === id)?.id ?? null;
}

/** The page in the URL's hash (null: none named yet). */
export function usePage(): PageId | null {
  const [page, setPage] = useState(currentPage);
  useEffect(() => {
    const update = () => setPage(currentPage());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return page;
}
