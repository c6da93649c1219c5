import type convict from 'convict';
import type { RedisConfig } from './types.js';
import { bool, hostPortList, int, redisPrefix, redisUrl, str } from './formats.js';

const ANY_STRING = str();
const NAME = str(/^[A-Za-z0-9._-]*$/, 'a name of letters, digits, . _ and -');

/**
 * The `redis` section of the configuration schema (src/config/schema.ts): one of three connection forms
 * (`url`, `cluster.nodes`, `sentinel.nodes` with `sentinel.name`), and the credentials and TLS settings
 * that apply to whichever is used.
 */
export const redisSchema: convict.Schema<RedisConfig> = {
  url: {
    doc: 'One standalone Redis node: `redis://` or `rediss://` (TLS), optionally with a user, password and database number. Leave it unset when redis.cluster.nodes or redis.sentinel.nodes is set. A password in it is redacted when printed.',
    format: redisUrl,
    default: 'redis://127.0.0.1:6379',
    env: 'REDIS_URL',
  },
  cluster: {
    nodes: {
      doc: 'Redis Cluster: some of its nodes as "host:port" (comma-separated in CAMS_REDIS_CLUSTER_NODES); one reachable node is enough to find the rest. Selects the ioredis Cluster client.',
      format: hostPortList,
      default: [],
      env: 'CAMS_REDIS_CLUSTER_NODES',
    },
  },
  sentinel: {
    nodes: {
      doc: 'Redis Sentinel: the sentinels as "host:port" (comma-separated in CAMS_REDIS_SENTINELS). With redis.sentinel.name, selects Sentinel: the client asks them for the current master and follows failovers.',
      format: hostPortList,
      default: [],
      env: 'CAMS_REDIS_SENTINELS',
    },
    name: {
      doc: 'The master name the sentinels monitor (`sentinel monitor <name> …`); required with redis.sentinel.nodes.',
      format: NAME,
      default: '',
      env: 'CAMS_REDIS_SENTINEL_NAME',
    },
    password: {
      doc: 'Password of the sentinels themselves, when they require one (`requirepass` in sentinel.conf); the data nodes use redis.password. Sensitive.',
      format: ANY_STRING,
      default: '',
      env: 'CAMS_REDIS_SENTINEL_PASSWORD',
      sensitive: true,
    },
  },
  username: {
    doc: 'Redis ACL user for every node (empty: the default user). For redis.url, put it in the URL or here, not both.',
    format: str(/^[^\s:@]*$/, 'a user name without spaces, ":" or "@"'),
    default: '',
    env: 'CAMS_REDIS_USERNAME',
  },
  password: {
    doc: 'Redis password for every node (empty: none). For redis.url, put it in the URL or here, not both. Sensitive.',
    format: ANY_STRING,
    default: '',
    env: 'CAMS_REDIS_PASSWORD',
    sensitive: true,
  },
  tls: {
    enabled: {
      doc: 'Connect with TLS to the cluster nodes, or to the sentinels and the nodes they name. For redis.url, use `rediss://` instead.',
      format: bool,
      default: false,
      env: 'CAMS_REDIS_TLS',
    },
    caPath: {
      doc: 'CA certificate (PEM) that signed the Redis server certificates, relative to the config directory; empty trusts the system CAs.',
      format: ANY_STRING,
      default: '',
      env: 'CAMS_REDIS_TLS_CA_PATH',
    },
    servername: {
      doc: 'Host name to expect in the server certificate (and send as SNI), when it differs from the address connected to.',
      format: str(/^[A-Za-z0-9.*-]*$/, 'a host name'),
      default: '',
      env: 'CAMS_REDIS_TLS_SERVERNAME',
    },
    insecureSkipVerify: {
      doc: 'Accept any server certificate. Anyone on the network path can then impersonate Redis and read every receipt; a warning is logged at every start. For tests only: use redis.tls.caPath instead.',
      format: bool,
      default: false,
      env: 'CAMS_REDIS_TLS_INSECURE_SKIP_VERIFY',
    },
  },
  prefix: {
    doc: 'Key prefix for BullMQ and cams-receipts keys. Must contain a `{hash-tag}` so Redis Cluster keeps each queue in one slot.',
    format: redisPrefix,
    default: '{cams}',
    env: 'CAMS_REDIS_PREFIX',
  },
  partitions: {
    doc: 'How many partitions the queues and idempotency records are split into, each under its own hash tag derived from redis.prefix (`{cams-p0-2}`, `{cams-p1-4}`, … for `{cams}`, one per equal range of cluster slots), so a Redis Cluster spreads them evenly across its masters; see docs/redis.md#partitions. 1 keeps every key under redis.prefix itself. A receipt always goes to the same partition. To change it, see redis.previousPartitions.',
    format: int(1, 1024),
    default: 1,
    env: 'CAMS_REDIS_PARTITIONS',
  },
  previousPartitions: {
    doc: 'While changing redis.partitions: the number it had before (0: no change under way). Claims also look for records in that layout, and workers drain its queues, so nothing is lost or applied twice. Remove it once pipeline.idempotencyTtlSeconds has passed since every process runs the new number.',
    format: int(0, 1024),
    default: 0,
    env: 'CAMS_REDIS_PREVIOUS_PARTITIONS',
  },
};
