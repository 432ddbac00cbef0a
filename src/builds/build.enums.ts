/** Enum values are the lowercase wire names of the webhook body; GraphQL shows the keys. */
export enum BuildStatus {
  QUEUED = 'queued',
  RUNNING = 'running',
  SUCCESS = 'success',
  FAILED = 'failed',
}

export enum Platform {
  MAC = 'mac',
  WINDOWS = 'windows',
  LINUX = 'linux',
}

export enum Arch {
  X64 = 'x64',
  ARM64 = 'arm64',
  UNIVERSAL = 'universal',
}
