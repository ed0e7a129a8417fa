/** What `labctl service` can do to the daemon: light, so the command's definition can name them without loading the service code. */
export const SERVICE_ACTIONS = ['start', 'stop', 'restart', 'reload', 'status'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];
