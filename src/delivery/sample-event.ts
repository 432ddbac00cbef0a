import { buildData } from '../builds/build-data';
import { Build } from '../builds/build.entity';
import { Arch, BuildStatus, Platform } from '../builds/build.enums';
import { serializeEventBody } from '../events/event-payload';
import { EventType } from '../events/event-type';
import { newId } from '../ids';

/** The build status a build event of each type carries. */
const BUILD_STATUS: Partial<Record<EventType, BuildStatus>> = {
  [EventType.BUILD_QUEUED]: BuildStatus.QUEUED,
  [EventType.BUILD_STARTED]: BuildStatus.RUNNING,
  [EventType.BUILD_SUCCEEDED]: BuildStatus.SUCCESS,
  [EventType.BUILD_FAILED]: BuildStatus.FAILED,
};

const SAMPLE_BUILD_SECONDS = 840;

/**
 * A body for `testWebhook` with the exact shape of a real event of `type`, made-up data (the
 * DeskForge page's example project and build) and fresh ids, so receivers parse it like any other.
 */
export function sampleEventBody(
  id: string,
  type: EventType,
  createdAt: Date,
): { projectId: string; buildId: string | null; payload: string } {
  const project = { id: newId('proj', createdAt.getTime()), name: 'My Desktop App' };
  const status = BUILD_STATUS[type];
  if (!status) return { projectId: project.id, buildId: null, payload: serializeEventBody(id, type, createdAt, project) };
  const finished = status === BuildStatus.SUCCESS || status === BuildStatus.FAILED;
  const build = Object.assign(new Build(), {
    id: newId('build', createdAt.getTime()),
    projectId: project.id,
    version: '1.0.0',
    platform: Platform.MAC,
    arch: Arch.ARM64,
    status,
    artifactUrl: status === BuildStatus.SUCCESS ? 'https://cdn.deskforge.app/builds/sample/my-desktop-app-1.0.0.dmg' : null,
    error: status === BuildStatus.FAILED ? 'Sample failure: code signing certificate expired' : null,
    startedAt: status === BuildStatus.QUEUED ? null : new Date(createdAt.getTime() - SAMPLE_BUILD_SECONDS * 1000),
    finishedAt: finished ? createdAt : null,
  });
  return { projectId: project.id, buildId: build.id, payload: serializeEventBody(id, type, createdAt, project, buildData(build)) };
}
