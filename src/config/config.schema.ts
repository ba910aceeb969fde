/**
 * JSON Schema of the YAML service configuration (Tiled 0.2.16 spelling, docs/configuration.md).
 *
 * Annotations beyond JSON Schema, read by the loader and by the docs test:
 * - `x-expect`: how an error message describes a valid value when the keyword alone would be cryptic;
 * - `x-sensitive`: values under this key are never printed (errors show `[redacted]`);
 * - `x-tiled-ts: 'ignored'`: a Tiled key tiled-ts accepts and ignores, with a startup warning;
 * - `x-tiled-ts: 'unsupported'`: a Tiled key tiled-ts refuses, because silently ignoring it would change
 *   what is served or who may see it (e.g. an access policy).
 */
export type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  required?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  'x-expect'?: string;
  'x-sensitive'?: boolean;
  'x-tiled-ts'?: 'ignored' | 'unsupported';
};

const duration: JsonSchema = {
  type: ['integer', 'string', 'null'],
  'x-expect': 'a number of seconds or a duration such as "15 minutes", "7 days", "PT15M" or "01:00:00"',
};

function ignored(description: string): JsonSchema {
  return { description, 'x-tiled-ts': 'ignored' };
}

function unsupported(description: string): JsonSchema {
  return { description, 'x-tiled-ts': 'unsupported' };
}

export const CONFIG_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    trees: {
      type: 'array',
      description: 'Trees to serve, each mounted at a URL path',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['tree', 'path'],
        properties: {
          tree: {
            type: 'string',
            pattern: '^([A-Za-z0-9_-]+|[^:]+:[A-Za-z_$][A-Za-z0-9_$]*)$',
            'x-expect': 'a built-in tree name such as "demo" or "catalog", or a module specifier "./path/to/module.js:exportName"',
            description: 'Built-in tree name (`demo`, `catalog`) or `module:export`; relative modules resolve against the config file directory',
          },
          path: { type: 'string', description: 'URL sub-path the tree is mounted at, `/` for the root' },
          args: { type: ['object', 'null'], description: 'Arguments passed to the tree factory' },
        },
      },
    },
    authentication: {
      type: 'object',
      additionalProperties: false,
      description: 'Who may connect and how',
      properties: {
        providers: {
          type: 'array',
          description: 'Login providers; none means single-user mode',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['provider', 'authenticator'],
            properties: {
              provider: {
                type: 'string',
                pattern: '^[a-zA-Z0-9_-]+$',
                'x-expect': 'a name made of letters, digits, "_" and "-" (it appears in URLs)',
                description: 'Unique provider name, used in `/api/v1/auth/provider/{provider}/…`',
              },
              authenticator: {
                type: 'string',
                minLength: 1,
                description: 'Built-in authenticator name, Tiled alias (`tiled.authenticators:…`), path or package specifier',
              },
              args: { type: ['object', 'null'], description: "The authenticator's own options", default: {} },
            },
          },
        },
        tiled_admins: {
          type: 'array',
          description: "Identities given the `admin` role at startup",
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['provider', 'id'],
            properties: {
              provider: { type: 'string', description: 'Provider name, as in `providers`' },
              id: { type: 'string', description: 'Identity id at that provider' },
            },
          },
        },
        secret_keys: {
          type: ['array', 'null'],
          items: { type: 'string', minLength: 1 },
          minItems: 1,
          'x-sensitive': true,
          description: 'Token signing keys: the first signs, all verify',
        },
        allow_anonymous_access: { type: ['boolean', 'null'], default: false, description: 'Public mode: anonymous callers may read' },
        single_user_api_key: {
          type: ['string', 'null'],
          'x-sensitive': true,
          description: 'The single-user API key (single-user mode only)',
        },
        access_token_max_age: { ...duration, default: 900, description: 'Access token lifetime' },
        refresh_token_max_age: { ...duration, default: 604800, description: 'Refresh token lifetime' },
        session_max_age: { ...duration, default: 31536000, description: 'Session lifetime' },
        api_key_max_lifetime: {
          type: ['integer', 'string', 'null'],
          'x-expect': 'a number of seconds, a duration such as "30 days", or null',
          default: null,
          description: 'Cap on the lifetime of new API keys (tiled-ts only)',
        },
        public_base_url: {
          type: ['string', 'null'],
          pattern: '^https?://[^/?#]+(/[^?#]*)?$',
          'x-expect': 'the server\'s public URL, e.g. https://tiled.example.org',
          default: null,
          description: 'Public URL of this server; external-login redirect URIs are built from it, never from the Host header (tiled-ts only)',
        },
        pending_logins_per_address: {
          type: ['integer', 'null'],
          minimum: 1,
          default: 50,
          description: 'External logins in progress allowed per client address (IPv6: per /64); beyond it 429 (tiled-ts only)',
        },
        pending_logins_per_provider: {
          type: ['integer', 'null'],
          minimum: 1,
          default: 10000,
          description: 'External logins in progress allowed per external provider; beyond it 503 (tiled-ts only)',
        },
      },
    },
    database: {
      type: ['object', 'null'],
      additionalProperties: false,
      description: 'The authentication database (not a catalog)',
      properties: {
        uri: {
          type: ['string', 'null'],
          pattern: '^(sqlite|postgresql|postgres)(\\+[a-z0-9]+)?:',
          'x-expect': 'a database URL such as "sqlite:///path/to/auth.db" or "postgresql://user@host/db"',
          description: 'SQLite or PostgreSQL URL',
        },
        init_if_not_exists: { type: ['boolean', 'null'], default: false, description: 'Create tables and roles if missing' },
        pool_size: { type: ['integer', 'null'], minimum: 2, default: 5, description: 'Connection pool size' },
        pool_pre_ping: { type: ['boolean', 'null'], default: true, description: 'Test connections before use' },
        max_overflow: { type: ['integer', 'null'], minimum: 0, default: 10, description: 'Connections allowed beyond the pool' },
      },
    },
    allow_origins: { type: ['array', 'null'], items: { type: 'string' }, description: 'CORS origins allowed to call the API' },
    write_body_limit: {
      type: ['integer', 'null'],
      minimum: 1024,
      description: 'Largest body, in bytes, of a request writing array or table data (tiled-ts; default 256 MiB)',
    },
    uvicorn: {
      type: 'object',
      additionalProperties: false,
      description: 'Server socket (Tiled passes this to uvicorn)',
      properties: {
        host: { type: 'string', default: '127.0.0.1', description: 'Interface to listen on' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8000, description: 'Port to listen on' },
        workers: ignored('Worker processes (tiled-ts runs one process)'),
        log_level: ignored('uvicorn log level'),
        log_config: ignored('uvicorn logging configuration'),
        access_log: ignored('uvicorn access log switch (use `--verbose`)'),
        proxy_headers: ignored('uvicorn proxy header handling'),
        forwarded_allow_ips: ignored('uvicorn trusted proxy addresses'),
        timeout_keep_alive: ignored('uvicorn keep-alive timeout'),
        root_path: unsupported('Serving under a URL prefix'),
        ssl_keyfile: unsupported('TLS (terminate TLS in a reverse proxy)'),
        ssl_certfile: unsupported('TLS (terminate TLS in a reverse proxy)'),
        ssl_keyfile_password: unsupported('TLS (terminate TLS in a reverse proxy)'),
        ssl_version: unsupported('TLS (terminate TLS in a reverse proxy)'),
        ssl_cert_reqs: unsupported('TLS (terminate TLS in a reverse proxy)'),
        ssl_ca_certs: unsupported('TLS (terminate TLS in a reverse proxy)'),
        ssl_ciphers: unsupported('TLS (terminate TLS in a reverse proxy)'),
      },
    },
    catalog: {
      type: ['object', 'null'],
      description: 'One writable catalog served at `/` (the same as `trees: [{path: /, tree: catalog, args: …}]`)',
      additionalProperties: false,
      required: ['uri'],
      properties: {
        uri: { type: 'string', description: 'The catalog database: sqlite:///file.db, postgresql://…, or a file path' },
        writable_storage: { type: ['string', 'array', 'object', 'null'], description: 'Directories new data is written under' },
        readable_storage: { type: ['string', 'array', 'null'], description: 'Directories data may also be read from' },
        init_if_not_exists: { type: ['boolean', 'null'], description: 'Create the catalog tables if the database has none' },
        metadata: { type: ['object', 'null'], description: "Metadata of the catalog's root" },
        specs: { type: ['array', 'null'], description: "Specs of the catalog's root: names or {name, version}" },
        adapters_by_mimetype: { type: ['object', 'null'], description: "Adapters for this catalog's registered files: {mimetype: 'module:export'}" },
        top_level_access_blob: { type: ['object', 'null'], description: 'Access blob of the root under an access policy, e.g. {"tags": ["public"]}' },
        mount_node: { type: ['string', 'array', 'null'], description: 'Serve the sub-tree at this path of the catalog as the root' },
        catalog_pool_size: ignored('Catalog connection pool size'),
        storage_pool_size: ignored('Storage connection pool size'),
        catalog_max_overflow: ignored('Catalog pool overflow'),
        storage_max_overflow: ignored('Storage pool overflow'),
      },
    },
    access_control: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['access_policy'],
      description: 'Who may see and do what on which node (docs/access-control.md)',
      properties: {
        access_policy: {
          type: 'string',
          minLength: 1,
          'x-expect': 'a policy such as "tiled.access_control.access_policies:TagBasedAccessPolicy" or "./my-policy.js:MyPolicy"',
          description: 'The policy: `tag-based`, `allow-all`, Tiled\'s class path for either, or a JavaScript module',
        },
        args: { type: ['object', 'null'], description: 'Arguments of the policy (for the tag-based one: provider, tags_db, scopes)' },
      },
    },
    routers: unsupported('Custom FastAPI routers'),
    metrics: {
      type: ['object', 'null'],
      additionalProperties: false,
      description: 'Prometheus metrics',
      properties: {
        prometheus: {
          type: ['boolean', 'null'],
          'x-expect': 'true or false',
          default: true,
          description: 'Serve `GET /api/v1/metrics` (scope `metrics`) and record every request for it',
        },
      },
    },
    specs: ignored('Declared structure specs'),
    reject_undeclared_specs: ignored('Reject undeclared specs on upload'),
    media_types: ignored('Extra serializers'),
    file_extensions: ignored('Extra `?format=` aliases'),
    response_bytesize_limit: ignored('Largest data response'),
    exact_count_limit: ignored('Containers larger than this report approximate counts'),
    expose_raw_assets: {
      type: ['boolean', 'null'],
      'x-expect': 'true or false',
      default: true,
      description: 'Serve the files behind catalog nodes: `GET /api/v1/asset/bytes/…` and `/asset/manifest/…` (scope `read:data`)',
    },
    streaming_cache: ignored('Live streaming cache'),
    webhooks: ignored('Webhooks'),
    create_mount_nodes_if_not_exist: ignored('Catalog mount-node helper'),
    catalog_pool_size: ignored('Catalog connection pool size'),
    storage_pool_size: ignored('Storage connection pool size'),
    catalog_max_overflow: ignored('Catalog pool overflow'),
    storage_max_overflow: ignored('Storage pool overflow'),
  },
};

/** Keys whose lists are concatenated when a directory of files is merged, as Tiled 0.2.16 does. */
export const CONCATENATED_KEYS: ReadonlySet<string> = new Set(['trees', 'specs', 'allow_origins']);
