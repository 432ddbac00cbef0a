import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection';

@ObjectType('Project')
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

@ObjectType()
export class DeleteProjectPayload {
  @Field(() => ID)
  id: string;

  @Field()
  deleted: boolean;

  @Field()
  message: string;
}
