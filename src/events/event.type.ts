import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection';
import { Arch, BuildStatus, EventType, Platform } from '../graphql/enums';

@ObjectType('ProjectData', { description: '`data.project` of the webhook body.' })
export class ProjectDataType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;
}

@ObjectType('BuildData', { description: '`data.build` of the webhook body, enum values in upper case.' })
export class BuildDataType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  projectId: string;

  @Field()
  version: string;

  @Field(() => Platform)
  platform: Platform;

  @Field(() => Arch)
  arch: Arch;

  @Field(() => BuildStatus)
  status: BuildStatus;

  @Field(() => String, { nullable: true })
  artifactUrl: string | null;

  @Field(() => Int, { nullable: true, description: 'Whole seconds from start to finish; null until finished.' })
  duration: number | null;

  @Field(() => String, { nullable: true, description: 'Only on build.failed.' })
  error?: string | null;
}

@ObjectType('EventData', { description: 'The webhook body\'s "data", typed.' })
export class EventDataType {
  @Field(() => ProjectDataType)
  project: ProjectDataType;

  @Field(() => BuildDataType, { nullable: true, description: 'Null for project events.' })
  build?: BuildDataType | null;
}

@ObjectType('Event')
export class EventObjectType {
  @Field(() => ID)
  id: string;

  @Field(() => EventType)
  type: EventType;

  @Field()
  createdAt: Date;
}

export const EventConnection = ConnectionType(EventObjectType, 'Event');
