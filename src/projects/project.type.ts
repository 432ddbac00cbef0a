import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection';
import { DeletionPayload } from '../graphql/deletion-payload';
import { plainFields } from '../graphql/plain-fields';

@ObjectType('Project', plainFields)
export class ProjectType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

export const ProjectConnection = ConnectionType(ProjectType, 'Project');

@InputType()
export class CreateProjectInput {
  @Field({ description: '1 to 200 characters.' })
  name: string;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType()
export class UpdateProjectInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

export const DeleteProjectPayload = DeletionPayload('DeleteProjectPayload');
