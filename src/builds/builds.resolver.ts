import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFound } from '../errors';
import { accountOf, GraphQLContext } from '../graphql/context';
import { loadById } from '../graphql/load-by-id';
import { Project } from '../projects/project.entity';
import { ProjectType } from '../projects/project.type';
import { buildDuration } from './build-data';
import { Build } from './build.entity';
import { BuildType, CompleteBuildInput, QueueBuildInput } from './build.type';

@Resolver(() => BuildType)
export class BuildsResolver {
  @Query(() => BuildType, { nullable: true })
  build(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Build | null> {
    return ctx.services.builds.get(accountOf(ctx), id);
  }

  /** The project as read with the build when it was (a write's, as it committed); else read now, and NOT_FOUND if deleted since. */
  @FieldResolver(() => ProjectType)
  async project(@Root() build: Build, @Ctx() ctx: GraphQLContext): Promise<Project> {
    if (build.project) return build.project;
    const { accountId, projectId } = build;
    const project = await loadById(ctx, `project:${accountId}`, projectId, (ids) => ctx.services.projects.getMany(accountId, ids));
    if (!project) throw new NotFound('Project');
    return project;
  }

  @FieldResolver(() => Int, { nullable: true, description: 'Whole seconds from start to finish; null until finished.' })
  duration(@Root() build: Build): number | null {
    return buildDuration(build);
  }

  @Mutation(() => BuildType)
  queueBuild(@Arg('input') input: QueueBuildInput, @Ctx() ctx: GraphQLContext): Promise<Build> {
    return ctx.services.builds.queue(accountOf(ctx), input);
  }

  @Mutation(() => BuildType)
  startBuild(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Build> {
    return ctx.services.builds.start(accountOf(ctx), id);
  }

  @Mutation(() => BuildType)
  completeBuild(@Arg('id', () => ID) id: string, @Arg('input') input: CompleteBuildInput, @Ctx() ctx: GraphQLContext): Promise<Build> {
    return ctx.services.builds.complete(accountOf(ctx), id, input);
  }
}
