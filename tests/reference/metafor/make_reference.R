# Reference numbers for exosynth's effect sizes and pooling, computed by R's metafor.
#
# Run from this folder (R is never needed to build exosynth or to run its tests):
#     cd tests/reference/metafor && Rscript make_reference.R
# Made with R 4.2.2 and metafor 3.8-1 (Debian bookworm: apt-get install r-base-core
# r-cran-metafor); the versions are written into expected_versions.csv.
#
# Input (checked in, long layout: one row per sham, control or treated group):
#   groups_handmade.csv  hand-made cases: a control shared by 3 groups (n / 3, not rounded),
#                        SEM input, higher_is_better, sham groups (NMD), k = 1, k = 2,
#                        tau^2 = 0, a group without n (no effect)
#   groups_syrf.csv      derived by derive_syrf.py from the SyRF quantitative export
#   groups_lsr3.csv      derived by derive_lsr3.py from the GALENOS LSR3 arm-level XLSX
#   groups_metadat.csv   written here from metadat's dat.normand1999 and dat.gibson2002
# Output:
#   expected_effects.csv    escalc(measure = "SMD") yi/vi with metafor's defaults; NMD and SE
#   expected_pooled.csv     rma(method = "REML" / "DL", test = "z" / "knha") + predict()
#   expected_subgroups.csv  Q between the per-source estimates (each with its own tau^2)
#   expected_cumulative.csv cumul() by publication year
#   expected_egger.csv      regtest() with its defaults (SMD), analyses with >= 10 studies
# Rules mirrored from DESIGN.md: a control serving k treated groups counts n / k; group 1
# is the control when lower is better, the treated group when higher is better; SD = SEM x
# sqrt(n); in an analysis a study contributes its last listed entry.

suppressMessages(library(metafor))
options(digits = 17)

metadat_groups <- function() {
  rows <- list()
  add <- function(dataset, analysis, id, source, year, direction, nt, mt, sdt, nc, mc, sdc) {
    base <- data.frame(dataset = dataset, condition = dataset, analysis = analysis,
                       study_id = id, source = source, year = year, entry = 0,
                       outcome = analysis, timepoint = "", direction = direction,
                       stringsAsFactors = FALSE)
    rbind(cbind(base, role = "control", arm = NA, label = "", n = nc, mean = mc, sd = sdc,
                sem = NA),
          cbind(base, role = "treated", arm = 0, label = "", n = nt, mean = mt, sd = sdt,
                sem = NA))
  }
  sources <- c("bone_marrow", "adipose", "umbilical_cord")
  d <- dat.normand1999  # length of stay (days): specialist care (group 1) vs routine care
  for (i in seq_len(nrow(d))) {
    rows[[length(rows) + 1]] <- add("normand1999", "length of stay", sprintf("n%02d", i),
      sources[(i - 1) %% 3 + 1], 1990 + i, "lower_is_better",
      d$n1i[i], d$m1i[i], d$sd1i[i], d$n2i[i], d$m2i[i], d$sd2i[i])
  }
  d <- dat.gibson2002  # days off work: self-management education (group 1) vs usual care
  for (i in seq_len(nrow(d))) {
    rows[[length(rows) + 1]] <- add("gibson2002", "days off work", sprintf("g%02d", i),
      sources[(i - 1) %% 3 + 1], d$year[i], "lower_is_better",
      d$n1i[i], d$m1i[i], d$sd1i[i], d$n2i[i], d$m2i[i], d$sd2i[i])
  }
  do.call(rbind, rows)
}

write.csv(metadat_groups(), "groups_metadat.csv", row.names = FALSE, na = "")

groups <- rbind(
  read.csv("groups_handmade.csv", stringsAsFactors = FALSE, na.strings = ""),
  read.csv("groups_syrf.csv", stringsAsFactors = FALSE, na.strings = ""),
  read.csv("groups_lsr3.csv", stringsAsFactors = FALSE, na.strings = ""),
  read.csv("groups_metadat.csv", stringsAsFactors = FALSE, na.strings = "")
)
groups$sd <- ifelse(is.na(groups$sd), groups$sem * sqrt(groups$n), groups$sd)

# ---------------------------------------------------------------- effect sizes
effects <- list()
for (key in unique(paste(groups$dataset, groups$study_id, groups$entry, sep = "|"))) {
  g <- groups[paste(groups$dataset, groups$study_id, groups$entry, sep = "|") == key, ]
  control <- g[g$role == "control", ]
  sham <- g[g$role == "sham", ]
  treated <- g[g$role == "treated", ]
  k <- nrow(treated)
  for (j in seq_len(k)) {
    t <- treated[j, ]
    nc <- control$n / k
    row <- data.frame(dataset = t$dataset, condition = t$condition, analysis = t$analysis,
                      study_id = t$study_id, source = t$source, year = t$year,
                      entry = t$entry, arm = t$arm, n_control_shared = nc,
                      smd = NA, smd_var = NA, nmd = NA, nmd_se = NA)
    if (!anyNA(c(t$n, t$mean, t$sd, control$n, control$mean, control$sd))) {
      if (t$direction == "lower_is_better") {
        es <- escalc(measure = "SMD", m1i = control$mean, sd1i = control$sd, n1i = nc,
                     m2i = t$mean, sd2i = t$sd, n2i = t$n)
      } else {
        es <- escalc(measure = "SMD", m1i = t$mean, sd1i = t$sd, n1i = t$n,
                     m2i = control$mean, sd2i = control$sd, n2i = nc)
      }
      row$smd <- es$yi[1]
      row$smd_var <- es$vi[1]
      if (nrow(sham) == 1) {
        span <- control$mean - sham$mean
        row$nmd <- 100 * (control$mean - t$mean) / span
        row$nmd_se <- sqrt((100 * control$sd / abs(span))^2 / nc +
                           (100 * t$sd / abs(span))^2 / t$n)
      }
    }
    effects[[length(effects) + 1]] <- row
  }
}
effects <- do.call(rbind, effects)
write.csv(effects, "expected_effects.csv", row.names = FALSE, na = "")

# one entry per study and analysis: the last listed
last <- aggregate(entry ~ dataset + analysis + study_id, data = effects, FUN = max)
used <- merge(effects, last)

# ---------------------------------------------------------------- pooling
fit_row <- function(y, v, method, test) {
  res <- rma(yi = y, vi = v, method = method, test = test)
  pr <- predict(res)
  data.frame(k = res$k, estimate = res$b[1], se = res$se, ci_low = res$ci.lb,
             ci_high = res$ci.ub, p = res$pval, tau2 = res$tau2, i2 = res$I2, q = res$QE,
             q_p = res$QEp, pi_low = pr$pi.lb, pi_high = pr$pi.ub)
}

pooled <- list()
subgroups <- list()
for (analysis_key in unique(paste(used$dataset, used$analysis, sep = "|"))) {
  a <- used[paste(used$dataset, used$analysis, sep = "|") == analysis_key, ]
  for (measure in c("smd", "nmd")) {
    y <- a[[measure]]
    v <- if (measure == "smd") a$smd_var else a$nmd_se^2
    ok <- !is.na(y)
    if (!any(ok)) next
    for (method in c("REML", "DL")) {
      for (test in c("z", "knha")) {
        if (test == "knha" && sum(ok) < 2) next
        sources <- c(sort(unique(a$source[ok])), "all")
        est <- c()
        ses <- c()
        for (source in sources) {
          sel <- ok & (source == "all" | a$source == source)
          r <- fit_row(y[sel], v[sel], method, test)
          pooled[[length(pooled) + 1]] <- cbind(
            data.frame(dataset = a$dataset[1], analysis = a$analysis[1], source = source,
                       measure = measure, method = method, test = test), r)
          if (source != "all") {
            est <- c(est, r$estimate)
            ses <- c(ses, r$se)
          }
        }
        if (length(est) >= 2) {
          between <- rma(yi = est, sei = ses, method = "FE")
          subgroups[[length(subgroups) + 1]] <- data.frame(
            dataset = a$dataset[1], analysis = a$analysis[1], measure = measure,
            method = method, test = test, subgroup_q = between$QE,
            subgroup_df = length(est) - 1, subgroup_p = between$QEp)
        }
      }
    }
  }
}
write.csv(do.call(rbind, pooled), "expected_pooled.csv", row.names = FALSE, na = "")
write.csv(do.call(rbind, subgroups), "expected_subgroups.csv", row.names = FALSE, na = "")

# ---------------------------------------------------------------- cumulative, Egger
cumulative <- list()
egger <- list()
for (dataset in c("normand1999", "gibson2002")) {
  a <- used[used$dataset == dataset & !is.na(used$smd), ]
  a <- a[order(a$year, a$study_id), ]
  for (method in c("REML", "DL")) {
    res <- rma(yi = a$smd, vi = a$smd_var, method = method)
    cu <- cumul(res)
    cumulative[[length(cumulative) + 1]] <- data.frame(
      dataset = dataset, method = method, step = seq_len(nrow(a)), study_id = a$study_id,
      estimate = cu$estimate, se = cu$se, ci_low = cu$ci.lb, ci_high = cu$ci.ub,
      tau2 = cu$tau2)
  }
}
for (analysis_key in unique(paste(used$dataset, used$analysis, sep = "|"))) {
  a <- used[paste(used$dataset, used$analysis, sep = "|") == analysis_key & !is.na(used$smd), ]
  if (length(unique(a$study_id)) < 10) next
  for (method in c("REML", "DL")) {
    for (test in c("z", "knha")) {
      eg <- regtest(rma(yi = a$smd, vi = a$smd_var, method = method, test = test))
      egger[[length(egger) + 1]] <- data.frame(
        dataset = a$dataset[1], analysis = a$analysis[1], method = method, test = test,
        k = nrow(a), stat = eg$zval, p = eg$pval, limit = eg$est, limit_ci_low = eg$ci.lb,
        limit_ci_high = eg$ci.ub)
    }
  }
}
write.csv(do.call(rbind, cumulative), "expected_cumulative.csv", row.names = FALSE, na = "")
write.csv(do.call(rbind, egger), "expected_egger.csv", row.names = FALSE, na = "")
write.csv(data.frame(R = R.version.string, metafor = as.character(packageVersion("metafor"))),
          "expected_versions.csv", row.names = FALSE)
