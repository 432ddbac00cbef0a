import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection';
import { Arch, BuildStatus, Platform } from '../graphql/enums';
import { plainFields } from '../graphql/plain-fields';

/** The fields a build has both in the API and in the webhook body's `data.build` (not a schema type itself). */
@ObjectType(plainFields)
export abstract class BuildFields {
  @Field(() => ID)
  id: string;

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

  @Field(() => String, { nullable: true, description: 'What went wrong; only on FAILED builds.' })
  error?: string | null;
}

@ObjectType('Build', plainFields)
export class BuildType extends BuildFields {
  @Field()
  queuedAt: Date;

  @Field(() => Date, { nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt: Date | null;
}

export const BuildConnection = ConnectionType(BuildType, 'Build');

@InputType()
export class QueueBuildInput {
  @Field(() => ID)
  projectId: string;

  @Field({ description: '1 to 100 characters, e.g. 1.0.0.' })
  version: string;

  @Field(() => Platform)
  platform: Platform;

  @Field(() => Arch)
  arch: Arch;
}

@InputType()
export class CompleteBuildInput {
  @Field(() => BuildStatus, { description: 'SUCCESS or FAILED.' })
  status: BuildStatus;

  @Field(() => String, { nullable: true, description: 'https URL of the artifact; SUCCESS only.' })
  artifactUrl?: string | null;

  @Field(() => String, { nullable: true, description: 'What went wrong; FAILED only.' })
  error?: string | null;
}
