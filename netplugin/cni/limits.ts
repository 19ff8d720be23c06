/**
 * The CNI input limits, in one place: the agent's handler enforces them, `bin/netloom-cni` carries
 * the same numbers (a unit test compares them) so that it refuses before sending, and docs/cni.md
 * lists them. The environment variables travel as HTTP headers; their sum stays well under the
 * agent server's header limit (`MAX_HEADER_BYTES`), so an oversized variable is a code 4 naming
 * it, never the HTTP server's bare 431.
 */

/** The plugin configuration on stdin. */
export const MAX_NETCONF_BYTES = 1024 * 1024;

/** Bytes per CNI environment variable (CNI_IFNAME's own rule, 15, is checked separately). */
export const MAX_ENV_BYTES = {
  CNI_COMMAND: 16,
  CNI_CONTAINERID: 1024,
  CNI_NETNS: 4096,
  CNI_IFNAME: 64,
  CNI_ARGS: 16 * 1024,
  CNI_PATH: 16 * 1024,
} as const;

export type CniEnvVariable = keyof typeof MAX_ENV_BYTES;

/** node:http's header limit on the agent's CNI socket (its default, 16 KiB, is less than the sum above). */
export const MAX_HEADER_BYTES = 64 * 1024;
