// The SQL handle the control-plane statements take: a client inside one of the provider's
// transactions (provider/postgres/client.ts inTransaction, search_path pinned).
export type { Sql } from "../../provider/postgres/client.ts";
