import { Clock } from '../clock';
import { Database } from '../db/database';
import { Page, PageArgs, paginate } from '../db/pagination';
import { WriteTransaction } from '../db/write-serializer';
import { Conflict, InvalidInput, NotFound } from '../errors';
import { EventType } from '../events/event-type';
import { Outbox } from '../events/outbox';
import { newId } from '../ids';
import { Project } from '../projects/project.entity';
import { Build } from './build.entity';
import { Arch, BuildStatus, Platform } from './build.enums';

export const VERSION_MAX = 100;
export const ERROR_MAX = 10_000;
export const ARTIFACT_URL_MAX = 2048;

export interface QueueBuildFields {
  projectId: string;
  version: string;
  platform: Platform;
  arch: Arch;
}

export interface CompleteBuildFields {
  status: BuildStatus;
  artifactUrl?: string | null;
  error?: string | null;
}

/**
 * A build's life: QUEUED → RUNNING → SUCCESS | FAILED. Every transition is one transaction with its
 * event; any other transition is a CONFLICT that changes nothing.
 */
export class BuildsService {
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
  ) {}

  async queue(accountId: string, input: QueueBuildFields): Promise<Build> {
    const version = input.version.trim();
    if (version.length < 1 || version.length > VERSION_MAX) {
      throw new InvalidInput('version', `"version" must be 1 to ${VERSION_MAX} characters`);
    }
    return this.db.writes.write(async (tx) => {
      const project = await tx.manager.findOneBy(Project, { id: input.projectId, accountId });
      if (!project) throw new NotFound('Project');
      const build = tx.manager.create(Build, {
        id: newId('build'),
        accountId,
        projectId: project.id,
        version,
        platform: input.platform,
        arch: input.arch,
        status: BuildStatus.QUEUED,
        artifactUrl: null,
        error: null,
        queuedAt: this.clock.now(),
        startedAt: null,
        finishedAt: null,
      });
      await tx.manager.insert(Build, build);
      await this.outbox.record(tx, accountId, EventType.BUILD_QUEUED, project, build);
      return build;
    });
  }

  start(accountId: string, id: string): Promise<Build> {
    return this.transition(accountId, id, BuildStatus.QUEUED, (build) => {
      build.status = BuildStatus.RUNNING;
      build.startedAt = this.clock.now();
      return EventType.BUILD_STARTED;
    });
  }

  complete(accountId: string, id: string, input: CompleteBuildFields): Promise<Build> {
    const outcome = checkCompletion(input);
    return this.transition(accountId, id, BuildStatus.RUNNING, (build) => {
      Object.assign(build, outcome, { finishedAt: this.clock.now() });
      return outcome.status === BuildStatus.SUCCESS ? EventType.BUILD_SUCCEEDED : EventType.BUILD_FAILED;
    });
  }

  get(accountId: string, id: string): Promise<Build | null> {
    return this.db.reader.getRepository(Build).findOneBy({ id, accountId });
  }

  listForProject(accountId: string, projectId: string, args: PageArgs & { status?: BuildStatus | null }): Promise<Page<Build>> {
    return paginate(this.db.reader, Build, { accountId, projectId, status: args.status }, args, 'queuedAt');
  }

  private transition(
    accountId: string,
    id: string,
    from: BuildStatus,
    apply: (build: Build) => EventType,
  ): Promise<Build> {
    return this.db.writes.write(async (tx: WriteTransaction) => {
      const build = await tx.manager.findOneBy(Build, { id, accountId });
      if (!build) throw new NotFound('Build');
      if (build.status !== from) {
        throw new Conflict(`Build is ${build.status.toUpperCase()}; this needs a ${from.toUpperCase()} build`);
      }
      const type = apply(build);
      await tx.manager.save(Build, build);
      const project = await tx.manager.findOneByOrFail(Project, { id: build.projectId });
      await this.outbox.record(tx, accountId, type, project, build);
      return build;
    });
  }
}

function checkCompletion(input: CompleteBuildFields): Pick<Build, 'status' | 'artifactUrl' | 'error'> {
  if (input.status === BuildStatus.SUCCESS) {
    if (input.error) throw new InvalidInput('error', '"error" is only for FAILED builds');
    return { status: input.status, artifactUrl: checkArtifactUrl(input.artifactUrl), error: null };
  }
  if (input.status === BuildStatus.FAILED) {
    if (input.artifactUrl) throw new InvalidInput('artifactUrl', '"artifactUrl" is only for SUCCESS builds');
    const error = input.error ?? null;
    if (error !== null && error.length > ERROR_MAX) {
      throw new InvalidInput('error', `"error" must be at most ${ERROR_MAX} characters`);
    }
    return { status: input.status, artifactUrl: null, error };
  }
  throw new InvalidInput('status', '"status" must be SUCCESS or FAILED');
}

function checkArtifactUrl(raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null) return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    url = null;
  }
  if (!url || url.protocol !== 'https:' || raw.length > ARTIFACT_URL_MAX) {
    throw new InvalidInput('artifactUrl', `"artifactUrl" must be an https URL of at most ${ARTIFACT_URL_MAX} characters`);
  }
  return raw;
}
