import { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, ID, Info, Mutation, Query, Resolver } from 'type-graphql';
import { Page } from '../db/pagination';
import { PageArgs, selectedNodeFields } from '../graphql/connection';
import { accountOf, GraphQLContext } from '../graphql/context';
import { Deletion } from '../graphql/deletion-payload';
import { Project } from './project.entity';
import { CreateProjectInput, DeleteProjectPayload, ProjectConnection, ProjectType, UpdateProjectInput } from './project.type';

@Resolver(() => ProjectType)
export class ProjectsResolver {
  @Query(() => ProjectConnection)
  projects(@Args() args: PageArgs, @Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<Page<Project>> {
    return ctx.services.projects.list(accountOf(ctx), args, selectedNodeFields(info));
  }

  @Query(() => ProjectType, { nullable: true })
  project(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Project | null> {
    return ctx.services.projects.get(accountOf(ctx), id);
  }

  @Mutation(() => ProjectType)
  createProject(@Arg('input') input: CreateProjectInput, @Ctx() ctx: GraphQLContext): Promise<Project> {
    return ctx.services.projects.create(accountOf(ctx), input);
  }

  @Mutation(() => ProjectType)
  updateProject(@Arg('id', () => ID) id: string, @Arg('input') input: UpdateProjectInput, @Ctx() ctx: GraphQLContext): Promise<Project> {
    return ctx.services.projects.update(accountOf(ctx), id, input);
  }

  @Mutation(() => DeleteProjectPayload)
  async deleteProject(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Deletion> {
    await ctx.services.projects.delete(accountOf(ctx), id);
    return { id, deleted: true, message: 'Project deleted successfully' };
  }
}
