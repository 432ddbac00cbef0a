import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection';
import { BuildFields } from '../builds/build.type';
import { EventType } from '../graphql/enums';
import { plainFields } from '../graphql/plain-fields';

@ObjectType('ProjectData', { ...plainFields, description: '`data.project` of the webhook body.' })
export class ProjectDataType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;
}

@ObjectType('BuildData', { ...plainFields, description: '`data.build` of the webhook body, enum values in upper case.' })
export class BuildDataType extends BuildFields {
  @Field(() => ID)
  projectId: string;

  @Field(() => Int, { nullable: true, description: 'Whole seconds from start to finish; null until finished.' })
  duration: number | null;
}

@ObjectType('EventData', { ...plainFields, description: 'The webhook body\'s "data", typed.' })
export class EventDataType {
  @Field(() => ProjectDataType)
  project: ProjectDataType;

  @Field(() => BuildDataType, { nullable: true, description: 'Null for project events.' })
  build?: BuildDataType | null;
}

@ObjectType('Event', plainFields)
export class EventObjectType {
  @Field(() => ID)
  id: string;

  @Field(() => EventType)
  type: EventType;

  @Field()
  createdAt: Date;
}

export const EventConnection = ConnectionType(EventObjectType, 'Event');
