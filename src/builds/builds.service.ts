import { Clock } from '../clock';
import { Database } from '../db/database';
import { Page, PageArgs, paginate } from '../db/pagination';
import { hydrate } from '../db/raw-sql';
import { Conflict, InvalidInput, NotFound } from '../errors';
import { EventType } from '../events/event-type';
import { Outbox, OUTBOX_WRITE } from '../events/outbox';
import { clientId, newId } from '../ids';
import { userText } from '../user-text';
import { buildData } from './build-data';
import { buildStatus, buildWrites, projectFrom } from './build-writes';
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
    const version = userText(input.version).trim();
    if (version.length < 1 || version.length > VERSION_MAX) {
      throw new InvalidInput('version', `"version" must be 1 to ${VERSION_MAX} characters`);
    }
    const queuedAt = this.clock.now();
    const build = Object.assign(new Build(), {
      id: newId('build', queuedAt.getTime()),
      accountId,
      projectId: clientId(input.projectId),
      version,
      platform: input.platform,
      arch: input.arch,
      status: BuildStatus.QUEUED,
      artifactUrl: null,
      error: null,
      queuedAt,
      startedAt: null,
      finishedAt: null,
    });
    // Inserted only if the account has the project, which the same statement returns.
    return this.db.writes.writeBatched(
      buildWrites,
      { kind: 'queue', build },
      (tx, row) => {
        if (!row) throw new NotFound('Project');
        const project = projectFrom(tx.manager, row);
        this.outbox.record(tx, accountId, EventType.BUILD_QUEUED, project, buildData(build));
        build.project = project;
        return build;
      },
      OUTBOX_WRITE,
    );
  }

  start(accountId: string, id: string): Promise<Build> {
    return this.transition(
      accountId,
      clientId(id),
      BuildStatus.QUEUED,
      { status: BuildStatus.RUNNING, startedAt: this.clock.now() },
      EventType.BUILD_STARTED,
    );
  }

  complete(accountId: string, id: string, input: CompleteBuildFields): Promise<Build> {
    const outcome = checkCompletion(input);
    const type = outcome.status === BuildStatus.SUCCESS ? EventType.BUILD_SUCCEEDED : EventType.BUILD_FAILED;
    return this.transition(accountId, clientId(id), BuildStatus.RUNNING, { ...outcome, finishedAt: this.clock.now() }, type);
  }

  /** The build with its project, read in one statement: a deletion of the project cannot fall between the two. */
  get(accountId: string, id: string): Promise<Build | null> {
    return this.db.reader.getRepository(Build).findOne({ where: { id: clientId(id), accountId }, relations: { project: true } });
  }

  listForProject(
    accountId: string,
    projectId: string,
    args: PageArgs & { status?: BuildStatus | null },
    select?: ReadonlySet<string>,
  ): Promise<Page<Build>> {
    return paginate(this.db.reader, Build, { accountId, projectId, status: args.status }, args, 'queuedAt', select);
  }

  /**
   * Applies `changes` if the build is in state `from`, in one statement (shared with the other build
   * mutations of a busy write group) that also returns the build and its project; only when nothing
   * matched does a second read tell NOT_FOUND from CONFLICT.
   */
  private transition(accountId: string, id: string, from: BuildStatus, changes: Partial<Build>, type: EventType): Promise<Build> {
    return this.db.writes.writeBatched(
      buildWrites,
      { kind: 'transition', id, accountId, from, changes },
      async (tx, row) => {
        if (!row) {
          const status = await buildStatus(tx.manager, accountId, id);
          if (!status) throw new NotFound('Build');
          throw new Conflict(`Build is ${status.toUpperCase()}; this needs a ${from.toUpperCase()} build`);
        }
        // A build is deleted with its project, so the build found has its project, read in the same statement.
        const build = hydrate(tx.manager, Build, row);
        const project = projectFrom(tx.manager, row);
        this.outbox.record(tx, accountId, type, project, buildData(build));
        build.project = project;
        return build;
      },
      OUTBOX_WRITE,
    );
  }
}

function checkCompletion(input: CompleteBuildFields): Pick<Build, 'status' | 'artifactUrl' | 'error'> {
  if (input.status === BuildStatus.SUCCESS) {
    if (input.error) throw new InvalidInput('error', '"error" is only for FAILED builds');
    return { status: input.status, artifactUrl: checkArtifactUrl(input.artifactUrl), error: null };
  }
  if (input.status === BuildStatus.FAILED) {
    if (input.artifactUrl) throw new InvalidInput('artifactUrl', '"artifactUrl" is only for SUCCESS builds');
    const error = userText(input.error) ?? null;
    if (error !== null && error.length > ERROR_MAX) {
      throw new InvalidInput('error', `"error" must be at most ${ERROR_MAX} characters`);
    }
    return { status: input.status, artifactUrl: null, error };
  }
  throw new InvalidInput('status', '"status" must be SUCCESS or FAILED');
}

function checkArtifactUrl(raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null) return null;
  const text = userText(raw);
  let url: URL | null;
  try {
    url = new URL(text);
  } catch {
    url = null;
  }
  if (!url || url.protocol !== 'https:' || text.length > ARTIFACT_URL_MAX) {
    throw new InvalidInput('artifactUrl', `"artifactUrl" must be an https URL of at most ${ARTIFACT_URL_MAX} characters`);
  }
  return text;
}
