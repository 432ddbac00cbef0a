import { In } from 'typeorm';
import { Clock } from '../clock';
import { Database } from '../db/database';
import { Page, PageArgs, paginate } from '../db/pagination';
import { InvalidInput, NotFound } from '../errors';
import { EventType } from '../events/event-type';
import { Outbox, OUTBOX_WRITE } from '../events/outbox';
import { clientId, newId } from '../ids';
import { userText } from '../user-text';
import { Project } from './project.entity';

export const PROJECT_NAME_MAX = 200;
export const PROJECT_DESCRIPTION_MAX = 2000;

export interface ProjectFields {
  name?: string | null;
  description?: string | null;
}

export class ProjectsService {
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
  ) {}

  async create(accountId: string, input: ProjectFields & { name: string }): Promise<Project> {
    const name = checkName(input.name);
    const description = checkDescription(input.description);
    return this.db.writes.write(async (tx) => {
      const now = this.clock.now();
      const project = tx.manager.create(Project, {
        id: newId('proj', now.getTime()),
        accountId,
        name,
        description,
        createdAt: now,
        updatedAt: now,
      });
      await tx.manager.insert(Project, project);
      this.outbox.record(tx, accountId, EventType.PROJECT_CREATED, project);
      return project;
    }, OUTBOX_WRITE);
  }

  async update(accountId: string, id: string, input: ProjectFields): Promise<Project> {
    const changes: Partial<Project> = {};
    if (input.name !== undefined) changes.name = checkName(input.name ?? '');
    if (input.description !== undefined) changes.description = checkDescription(input.description);
    return this.db.writes.write(async (tx) => {
      const project = await tx.manager.findOneBy(Project, { id: clientId(id), accountId });
      if (!project) throw new NotFound('Project');
      Object.assign(project, changes, { updatedAt: this.clock.now() });
      await tx.manager.save(Project, project);
      this.outbox.record(tx, accountId, EventType.PROJECT_UPDATED, project);
      return project;
    }, OUTBOX_WRITE);
  }

  /** Deletes the project and its builds; `project.deleted` carries the project as it was. */
  async delete(accountId: string, id: string): Promise<Project> {
    return this.db.writes.write(async (tx) => {
      const project = await tx.manager.findOneBy(Project, { id: clientId(id), accountId });
      if (!project) throw new NotFound('Project');
      await tx.manager.delete(Project, { id });
      this.outbox.record(tx, accountId, EventType.PROJECT_DELETED, project);
      return project;
    }, OUTBOX_WRITE);
  }

  get(accountId: string, id: string): Promise<Project | null> {
    return this.db.reader.getRepository(Project).findOneBy({ id: clientId(id), accountId });
  }

  /** The account's projects with these ids, by id. */
  async getMany(accountId: string, ids: readonly string[]): Promise<Map<string, Project>> {
    const projects = await this.db.reader.getRepository(Project).findBy({ id: In([...ids]), accountId });
    return new Map(projects.map((project) => [project.id, project]));
  }

  list(accountId: string, args: PageArgs, select?: ReadonlySet<string>): Promise<Page<Project>> {
    return paginate(this.db.reader, Project, { accountId }, args, 'createdAt', select);
  }
}

function checkName(name: string): string {
  const trimmed = userText(name).trim();
  if (trimmed.length < 1 || trimmed.length > PROJECT_NAME_MAX) {
    throw new InvalidInput('name', `"name" must be 1 to ${PROJECT_NAME_MAX} characters`);
  }
  return trimmed;
}

function checkDescription(description: string | null | undefined): string | null {
  if (description === undefined || description === null) return null;
  if (description.length > PROJECT_DESCRIPTION_MAX) {
    throw new InvalidInput('description', `"description" must be at most ${PROJECT_DESCRIPTION_MAX} characters`);
  }
  return userText(description);
}
