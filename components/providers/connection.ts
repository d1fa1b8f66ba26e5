// The admin connection every PostgreSQL resource carries as an input (the password as a
// Pulumi secret), so the dynamic provider process needs nothing from the program's scope.
import type * as pulumi from "@pulumi/pulumi";

export interface PgConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export type PgConnectionInput = pulumi.Input<{
  readonly host: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  readonly user: pulumi.Input<string>;
  readonly password: pulumi.Input<string>;
  readonly database: pulumi.Input<string>;
}>;

/**
 * Runs `fn` with a connected client. Provider methods are serialised into the provider process,
 * so `pg` is imported there, at call time, rather than captured from this module.
 */
export async function withClient<T>(connection: PgConnection, fn: (client: import("pg").Client) => Promise<T>): Promise<T> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 10_000, application_name: "tenancy-as-code" });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Same server and database: a different admin user still manages the same objects. */
export function sameServer(a: PgConnection, b: PgConnection): boolean {
  return a.host === b.host && Number(a.port) === Number(b.port) && a.database === b.database;
}

/** Whether two connections reach the same server and database as the same user. */
export function sameTarget(a: PgConnection, b: PgConnection): boolean {
  return a.host === b.host && Number(a.port) === Number(b.port) && a.database === b.database && a.user === b.user;
}
